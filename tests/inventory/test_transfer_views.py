"""Transfers in the back office: a draft from one point, shipped by the origin, received (accepted and rejected
quantities) by the destination's managers only; both ends see the goods in transit; each end's URL is checked."""
import sqlalchemy as sa

from shop.accounts.models import Role
from shop.extensions import db
from shop.inventory.models import Lot, StockLevel, StockMovement, Transfer, TransferLine, TransferStatus
from shop.inventory.services import create_transfer
from shop.sales_points.models import SalesPoint
from tests.conftest import csrf_token, login, post_form
from tests.factories import make_point_manager, make_product, make_stock, make_user
from tests.inventory.test_stock_views import level_id, page_of
from tests.test_accessibility import assert_accessible


def on_hand(desk, point_id: int) -> dict[str, int]:
    with desk.app.app_context():
        rows = db.session.execute(sa.select(Lot.lot_code, StockLevel.on_hand).join(Lot, Lot.id == StockLevel.lot_id)
                                  .where(StockLevel.point_id == point_id))
        return dict(rows.all())


def ledger(desk, point_id: int) -> list[tuple]:
    with desk.app.app_context():
        rows = db.session.scalars(sa.select(StockMovement).where(StockMovement.point_id == point_id)
                                  .order_by(StockMovement.id))
        return [(m.kind.value, m.quantity, m.reference, m.note) for m in rows]


def status_of(desk, number: str) -> TransferStatus:
    with desk.app.app_context():
        return db.session.scalar(sa.select(Transfer.status).where(Transfer.number == number))


def line_ids(desk, number: str) -> list[int]:
    with desk.app.app_context():
        return list(db.session.scalars(sa.select(TransferLine.id).join(Transfer).where(Transfer.number == number)
                                       .order_by(TransferLine.id)))


def draft(desk, lines=(("L-LATE", "4"),), to=None) -> str:
    """Create a draft from DN-XL-01 through the form; returns its number."""
    data = {"to_point": to or desk.centre_id, "note": "Bổ sung hàng cho trung tâm"}
    for n, (lot_code, quantity) in enumerate(lines, start=1):
        data[f"level_{n}"], data[f"quantity_{n}"] = level_id(desk, lot_code), quantity
    response = post_form(desk.client, desk.url("/transfers/new"), data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def post(client, url: str, data=None):
    return client.post(url, data={"csrf_token": csrf_token(client, "/"), **(data or {})})


def centre_desk(desk):
    """A logged-in manager of the destination, DN-TT-01."""
    with desk.app.app_context():
        make_point_manager(db.session.get(SalesPoint, desk.centre_id), email="trungtam@example.vn")
        db.session.commit()
    client = desk.app.test_client()
    login(client, "trungtam@example.vn")
    return client


def ship(desk, number: str):
    return post(desk.client, desk.url(f"/transfers/{number}/ship"))


def test_draft_ship_and_receive_with_a_rejection(desk):
    number = draft(desk, [("L-LATE", "4"), ("L-SOON", "2")])
    assert number == "DN-XL-01-CK-000001" and status_of(desk, number) == TransferStatus.DRAFT
    assert on_hand(desk, desk.point_id) == {"L-SOON": 6, "L-LATE": 10}  # a draft moves nothing

    assert ship(desk, number).status_code == 302
    assert on_hand(desk, desk.point_id) == {"L-SOON": 4, "L-LATE": 6}
    centre = centre_desk(desk)
    for client, code in ((desk.client, desk.code), (centre, desk.centre_code)):  # both ends see it in transit
        transit = page_of(client.get(desk.url("/stock", code=code))).select("#in-transit-title ~ div tbody tr")
        assert {row.select("td")[2].get_text() for row in transit} == {"L-LATE", "L-SOON"}
        assert number in client.get(desk.url("/transfers", code=code)).get_data(as_text=True)

    late, soon = line_ids(desk, number)
    response = post(centre, desk.url(f"/transfers/{number}/receive", code=desk.centre_code), {
        f"accepted_{late}": "3", f"rejected_{late}": "1", f"reason_{late}": "Móp hộp",
        f"accepted_{soon}": "2", f"rejected_{soon}": "0", f"reason_{soon}": ""})
    assert response.status_code == 302
    assert status_of(desk, number) == TransferStatus.RECEIVED
    assert on_hand(desk, desk.centre_id) == {"L-LATE": 3, "L-SOON": 2}
    assert on_hand(desk, desk.point_id) == {"L-SOON": 4, "L-LATE": 7}  # the rejected unit came back
    assert ledger(desk, desk.centre_id) == [("transfer_in", 3, number, None), ("transfer_in", 2, number, None)]
    assert ledger(desk, desk.point_id)[-1] == ("return", 1, number, "Móp hộp")
    detail = page_of(desk.client.get(desk.url(f"/transfers/{number}")))
    assert [cell.get_text(strip=True)
            for cell in detail.select("tbody tr")[0].find_all("td")][3:] == ["3", "1", "Móp hộp"]


def test_receiving_more_than_was_shipped_is_refused(desk):
    number = draft(desk)
    ship(desk, number)
    [line] = line_ids(desk, number)
    centre = centre_desk(desk)
    response = post(centre, desk.url(f"/transfers/{number}/receive?lang=en", code=desk.centre_code),
                    {f"accepted_{line}": "5", f"rejected_{line}": "0"})
    assert response.status_code == 400
    assert "add up to the 4 shipped" in page_of(response).select_one(".stock-problems").get_text()
    assert status_of(desk, number) == TransferStatus.SHIPPED and on_hand(desk, desk.centre_id) == {}


def test_a_rejection_needs_a_reason_and_quantities_must_be_numbers(desk):
    number = draft(desk)
    ship(desk, number)
    [line] = line_ids(desk, number)
    centre = centre_desk(desk)
    url = desk.url(f"/transfers/{number}/receive", code=desk.centre_code)
    assert post(centre, url, {f"accepted_{line}": "3", f"rejected_{line}": "1"}).status_code == 400
    assert post(centre, url, {f"accepted_{line}": "ba", f"rejected_{line}": "1"}).status_code == 400
    assert post(centre, url, {f"accepted_{line}": "-1", f"rejected_{line}": "5",
                              f"reason_{line}": "x"}).status_code == 400
    assert status_of(desk, number) == TransferStatus.SHIPPED


def test_only_the_destination_receives_and_only_the_origin_ships_or_cancels(desk):
    number = draft(desk)
    [line] = line_ids(desk, number)
    centre = centre_desk(desk)
    assert post(centre, desk.url(f"/transfers/{number}/ship", code=desk.centre_code)).status_code == 404
    assert post(centre, desk.url(f"/transfers/{number}/cancel", code=desk.centre_code)).status_code == 404
    ship(desk, number)
    assert post(desk.client, desk.url(f"/transfers/{number}/receive"),
                {f"accepted_{line}": "4", f"rejected_{line}": "0"}).status_code == 404
    assert post(centre, desk.url(f"/transfers/{number}/receive")).status_code == 403  # not a manager of DN-XL-01
    assert status_of(desk, number) == TransferStatus.SHIPPED


def test_a_transfer_between_two_other_points_is_not_found(desk):
    with desk.app.app_context():
        centre, other = db.session.get(SalesPoint, desk.centre_id), db.session.get(SalesPoint, desk.other_id)
        actor = make_user(Role.POINT_MANAGER)
        product = make_product(name="Mật ong rừng")
        make_stock(centre, product, actor, lot_code="M1", quantity=5)
        lot = db.session.scalar(sa.select(Lot).where(Lot.lot_code == "M1"))
        number = create_transfer(centre, other, [(product, lot, 2)], actor=actor).number
        db.session.commit()
    assert desk.client.get(desk.url(f"/transfers/{number}")).status_code == 404
    assert post(desk.client, desk.url(f"/transfers/{number}/ship")).status_code == 404
    assert post(desk.client, desk.url(f"/transfers/{number}/cancel")).status_code == 404
    assert desk.client.get(desk.url("/transfers/DN-XL-01-CK-999999")).status_code == 404
    assert status_of(desk, number) == TransferStatus.DRAFT


def test_a_transfer_form_with_another_points_stock_level_is_not_found(desk):
    with desk.app.app_context():
        other = db.session.get(SalesPoint, desk.other_id)
        make_stock(other, make_product(name="Mật ong rừng"), make_user(Role.POINT_MANAGER), lot_code="M1")
        db.session.commit()
    response = post_form(desk.client, desk.url("/transfers/new"), {
        "to_point": desk.centre_id, "level_1": level_id(desk, "M1", desk.other_id), "quantity_1": "2"})
    assert response.status_code == 404
    with desk.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Transfer)) == 0


def test_the_transfer_form_refuses_bad_lines_and_destinations(desk):
    late = level_id(desk, "L-LATE")
    refused = [
        {"to_point": desk.centre_id},                                       # no line
        {"to_point": desk.centre_id, "level_1": late, "quantity_1": "0"},
        {"to_point": desk.centre_id, "level_1": late, "quantity_1": "-2"},
        {"to_point": desk.centre_id, "level_1": late, "quantity_1": "hai"},
        {"to_point": desk.centre_id, "level_1": late, "quantity_1": ""},    # a lot without a quantity
        {"to_point": desk.centre_id, "quantity_1": "2"},                     # a quantity without a lot
        {"to_point": "", "level_1": late, "quantity_1": "2"},
        {"to_point": desk.point_id, "level_1": late, "quantity_1": "2"},    # to itself
    ]
    for data in refused:
        assert post_form(desk.client, desk.url("/transfers/new"), data).status_code == 400, data
    with desk.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Transfer)) == 0


def test_the_destination_choices_leave_out_this_point_and_closed_points(desk):
    from shop.sales_points.services import change_point_status

    with desk.app.app_context():
        change_point_status(db.session.get(SalesPoint, desk.other_id), "suspended", "Sửa chữa",
                            make_user(Role.TRADE_OFFICER))
        db.session.commit()
    options = {int(o["value"]) for o in page_of(desk.client.get(desk.url("/transfers/new"))).select("#to_point option")
               if o["value"]}
    assert options == {desk.centre_id}
    response = post_form(desk.client, desk.url("/transfers/new"),
                         {"to_point": desk.other_id, "level_1": level_id(desk, "L-LATE"), "quantity_1": "1"})
    assert response.status_code == 400


def test_shipping_more_than_is_available_is_refused_and_nothing_moves(desk):
    number = draft(desk, [("L-LATE", "4")])
    post_form(desk.client, desk.url("/adjustments/new"),
              {"level": level_id(desk, "L-LATE"), "delta": "-8", "reason": "damaged"})
    response = ship(desk, number)
    assert response.status_code == 400
    assert status_of(desk, number) == TransferStatus.DRAFT and on_hand(desk, desk.point_id)["L-LATE"] == 2


def test_cancelling_a_shipped_transfer_brings_the_goods_back(desk):
    number = draft(desk)
    ship(desk, number)
    assert post(desk.client, desk.url(f"/transfers/{number}/cancel")).status_code == 302
    assert status_of(desk, number) == TransferStatus.CANCELLED
    assert on_hand(desk, desk.point_id)["L-LATE"] == 10
    assert ledger(desk, desk.point_id)[-2:] == [("transfer_out", -4, number, None),
                                                ("return", 4, number, "transfer cancelled")]
    assert post(desk.client, desk.url(f"/transfers/{number}/cancel")).status_code == 400  # only once


def test_a_trade_officer_reads_a_transfer_but_cannot_ship_it(desk):
    number = draft(desk)
    with desk.app.app_context():
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        db.session.commit()
    officer = desk.app.test_client()
    login(officer, "officer@example.vn")
    response = officer.get(desk.url(f"/transfers/{number}"))
    assert response.status_code == 200 and not page_of(response).select(".transfer-actions form")
    assert post(officer, desk.url(f"/transfers/{number}/ship")).status_code == 403
    assert status_of(desk, number) == TransferStatus.DRAFT


def test_each_end_sees_the_actions_of_its_side(desk):
    number = draft(desk)
    origin = page_of(desk.client.get(desk.url(f"/transfers/{number}")))
    assert len(origin.select(".transfer-actions form")) == 2 and not origin.select("input[name^=accepted_]")
    assert_accessible(origin, "transfer draft at the origin")
    ship(desk, number)
    centre = centre_desk(desk)
    destination = page_of(centre.get(desk.url(f"/transfers/{number}", code=desk.centre_code)))
    assert destination.select("input[name^=accepted_]") and not destination.select(".transfer-actions form")
    assert_accessible(destination, "transfer in transit at the destination")


def test_a_refused_transfer_form_keeps_what_was_chosen(desk):
    late = level_id(desk, "L-LATE")
    response = post_form(desk.client, desk.url("/transfers/new"),
                         {"to_point": desk.centre_id, "level_2": late, "quantity_2": "0"})
    assert response.status_code == 400
    page = page_of(response)
    assert [o["value"] for o in page.select("#level_2 option[selected]")] == [str(late)]
    assert not page.select("#level_1 option[selected]")
    assert page.select_one("#quantity_2")["aria-invalid"] == "true"
