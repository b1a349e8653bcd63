"""Every action happens once. Two requests sent at the same instant (a threading.Barrier) to a running server
(gunicorn, 2 worker processes × 4 threads) on a file SQLite database, or on PostgreSQL when TEST_DATABASE_URL is set:
a double click, a retrying phone, two managers. Exactly one effect, the other request refused with a clear message
(never a 500, never a second effect), and the books still balance. The loser is told what a fresh page would tell
it (the views run an action that lost a race once more on fresh data: "only an order ready for pickup can be
handed over").

The table of issue 11, sent again: receive × 2, receive + cancel, a cash refund × 2 (same form and two managers),
a hand-over × 2, a checkout × 2; also ship × 2, a counter sale × 2, a receipt × 2, a cancellation × 2."""
import re

import pytest
import requests
import sqlalchemy as sa

from shop.accounts.models import Role
from shop.audit.audits import services as audit_services
from shop.audit.models import Audit, AuditStatus
from shop.books.queries import verify_books
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import (
    CounterSale,
    MovementKind,
    StockLevel,
    StockMovement,
    Transfer,
    TransferStatus,
)
from shop.orders import services as orders
from shop.orders.models import Order, OrderStatus
from shop.payments import services as payments
from shop.payments.models import CashCollection, Refund
from tests.audit.test_audits import ALL_PASS, fake_checks, make_criteria_set, record_all
from tests.conftest import CSRF_RE
from tests.factories import make_point, make_point_manager, make_product, make_stock, make_user
from tests.live_server import form_token, gunicorn, logged_in, run_together
from tests.orders.conftest import ADDRESS, CONTACT

CENTRE, POINT = "DN-TT-01", "DN-XL-01"
CENTRE_MANAGERS = ("centre-a@example.vn", "centre-b@example.vn")
OFFICERS = ("officer-a@example.vn", "officer-b@example.vn")
POINT_MANAGERS = ("point-a@example.vn", "point-b@example.vn")
ONCE_KEY_RE = re.compile(r'name="once_key"[^>]*value="([^"]+)"')


def _books_clean() -> None:
    """What must hold after any race: stock = ledger, reserved = what orders hold, money within its bounds."""
    assert verify_books() == []


@pytest.fixture
def shop_data(shared_app):
    """The centre and a district point with two managers each; a product on the centre's shelf; a shipped
    transfer of 1 unit to the point; a pickup order ready at the point (pay at pickup); a handed-over cash order.
    The gunicorn `server` fixture starts after it, on the same database."""
    with shared_app.app_context():
        centre = make_point(CENTRE, tier="centre", name="Trung tâm OCOP Đồng Nai")
        point = make_point(POINT, name="Điểm OCOP Xuân Lộc")
        centre_manager, _ = (make_point_manager(centre, email=email) for email in CENTRE_MANAGERS)
        point_manager, _ = (make_point_manager(point, email=email) for email in POINT_MANAGERS)
        product = make_product(name="Hạt điều rang muối", price_vnd=120_000)
        make_stock(centre, product, centre_manager, lot_code="L1", quantity=10)
        make_stock(point, product, point_manager, lot_code="P1", quantity=10)
        lot = db.session.scalar(sa.select(StockLevel).where(StockLevel.point_id == centre.id)).lot
        transfer = inventory.create_transfer(centre, point, [(product, lot, 1)], actor=centre_manager)
        inventory.ship_transfer(transfer, actor=centre_manager)
        draft = inventory.create_transfer(centre, point, [(product, lot, 1)], actor=centre_manager)
        ready = orders.create_order(point, [(product, 2)], fulfilment="pickup", payment_method="pay_at_pickup",
                                    contact=CONTACT)
        orders.mark_ready(ready, actor=point_manager)
        done = orders.create_order(point, [(product, 1)], fulfilment="pickup", payment_method="pay_at_pickup",
                                   contact=CONTACT)
        orders.mark_ready(done, actor=point_manager)
        payments.record_cash(done, done.total_vnd, actor=point_manager)
        orders.hand_over(done, done.pickup_code, actor=point_manager)
        confirmed = orders.create_order(point, [(product, 1)], fulfilment="pickup", payment_method="pay_at_pickup",
                                        contact=CONTACT)
        make_user(Role.CUSTOMER, email="buyer@example.vn")
        to_ready = orders.create_order(point, [(product, 1)], fulfilment="pickup", payment_method="pay_at_pickup",
                                       contact=CONTACT)
        to_ship = orders.create_order(point, [(product, 1)], fulfilment="delivery", payment_method="cash_on_delivery",
                                      contact=CONTACT, address=ADDRESS)
        shipped = orders.create_order(point, [(product, 1)], fulfilment="delivery",
                                      payment_method="cash_on_delivery", contact=CONTACT, address=ADDRESS)
        orders.ship(shipped, tracking_note="VNPost EB123", actor=point_manager)
        officers = [make_user(Role.TRADE_OFFICER, email=email) for email in OFFICERS]
        criteria_set = make_criteria_set()
        draft_audit = audit_services.start_audit(point, criteria_set, officers[0], run_checks=fake_checks)
        record_all(draft_audit, officers[0], ALL_PASS)
        submitted_audit = audit_services.start_audit(centre, criteria_set, officers[0], run_checks=fake_checks)
        record_all(submitted_audit, officers[0], ALL_PASS)
        audit_services.submit(submitted_audit, officers[0])
        db.session.commit()
        ids = {"transfer": transfer.number, "draft": draft.number, "ready": ready.number,
               "pickup_code": ready.pickup_code, "done": done.number, "done_line": done.lines[0].id,
               "done_total": done.total_vnd, "confirmed": confirmed.number, "product": product.id,
               "slug": product.slug, "transfer_line": transfer.lines[0].id, "to_ready": to_ready.number,
               "to_ship": to_ship.number, "shipped": shipped.number, "draft_audit": draft_audit.id,
               "submitted_audit": submitted_audit.id, "lot": lot.id, "lot_code": lot.lot_code}
        db.session.remove()
        db.engine.dispose()  # the server processes are the only users of the database while they run
    return ids


@pytest.fixture
def server(shared_app, shop_data, tmp_path):
    with gunicorn(shared_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path) as base:
        yield base


def _post(session: requests.Session, url: str, data: dict):
    return lambda: session.post(url, data=data, allow_redirects=False, timeout=60)


def _one_won(responses, *, refused_with: str, ok=(302, 303)) -> None:
    crashes = [r for r in responses if isinstance(r, Exception)]
    assert not crashes, crashes
    statuses = sorted(r.status_code for r in responses)
    assert statuses[0] in ok and statuses[1] == 400, statuses  # one effect, one refusal; no 500
    refused = next(r for r in responses if r.status_code == 400)
    assert refused_with in refused.text, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", refused.text))[-3000:]


def _same_result(responses) -> None:
    """A double submission of the same form (same one-time key): both land on the same page, one effect."""
    crashes = [r for r in responses if isinstance(r, Exception)]
    assert not crashes, crashes
    assert {r.status_code for r in responses} <= {302, 303}, [r.status_code for r in responses]
    assert len({r.headers["Location"] for r in responses}) == 1, [r.headers["Location"] for r in responses]


def test_receiving_a_shipped_transfer_twice_at_once_shelves_it_once(shared_app, shop_data, server):
    url = f"{server}/manage/points/{POINT}/transfers/{shop_data['transfer']}"
    line = shop_data["transfer_line"]
    clerks = [logged_in(server, email) for email in POINT_MANAGERS]
    forms = [{"csrf_token": form_token(clerk, url), f"accepted_{line}": "1", f"rejected_{line}": "0"}
             for clerk in clerks]
    responses = run_together([_post(clerk, url + "/receive", form) for clerk, form in zip(clerks, forms)])
    _one_won(responses, refused_with="already received or cancelled")
    with shared_app.app_context():
        transfer = db.session.scalar(sa.select(Transfer).where(Transfer.number == shop_data["transfer"]))
        assert transfer.status == TransferStatus.RECEIVED
        arrived = db.session.scalar(sa.select(sa.func.sum(StockMovement.quantity)).where(
            StockMovement.reference == transfer.number, StockMovement.kind == MovementKind.TRANSFER_IN))
        assert arrived == 1
        _books_clean()
        db.session.remove()


def test_receive_and_cancel_of_the_same_transfer_at_once_do_one_of_them(shared_app, shop_data, server):
    url_in = f"{server}/manage/points/{POINT}/transfers/{shop_data['transfer']}"
    url_out = f"{server}/manage/points/{CENTRE}/transfers/{shop_data['transfer']}"
    line = shop_data["transfer_line"]
    receiver, sender = logged_in(server, POINT_MANAGERS[0]), logged_in(server, CENTRE_MANAGERS[0])
    receive = {"csrf_token": form_token(receiver, url_in), f"accepted_{line}": "1", f"rejected_{line}": "0"}
    cancel = {"csrf_token": form_token(sender, url_out)}
    responses = run_together([_post(receiver, url_in + "/receive", receive),
                              _post(sender, url_out + "/cancel", cancel)])
    crashes = [r for r in responses if isinstance(r, Exception)]
    assert not crashes, crashes
    assert sorted(r.status_code for r in responses) == [302, 400]
    with shared_app.app_context():
        transfer = db.session.scalar(sa.select(Transfer).where(Transfer.number == shop_data["transfer"]))
        back = db.session.scalar(sa.select(sa.func.count(StockMovement.id)).where(
            StockMovement.reference == transfer.number, StockMovement.kind == MovementKind.RETURN))
        arrived = db.session.scalar(sa.select(sa.func.count(StockMovement.id)).where(
            StockMovement.reference == transfer.number, StockMovement.kind == MovementKind.TRANSFER_IN))
        if transfer.status == TransferStatus.RECEIVED:
            assert (arrived, back) == (1, 0)
        else:
            assert transfer.status == TransferStatus.CANCELLED and (arrived, back) == (0, 1)
        _books_clean()
        db.session.remove()


def test_shipping_a_draft_twice_at_once_ships_it_once(shared_app, shop_data, server):
    url = f"{server}/manage/points/{CENTRE}/transfers/{shop_data['draft']}"
    clerks = [logged_in(server, email) for email in CENTRE_MANAGERS]
    responses = run_together([_post(clerk, url + "/ship", {"csrf_token": form_token(clerk, url)}) for clerk in clerks])
    _one_won(responses, refused_with="already shipped or cancelled")
    with shared_app.app_context():
        left = db.session.scalar(sa.select(sa.func.sum(StockMovement.quantity)).where(
            StockMovement.reference == shop_data["draft"], StockMovement.kind == MovementKind.TRANSFER_OUT))
        assert left == -1
        _books_clean()
        db.session.remove()


def test_handing_over_a_pickup_order_twice_at_once_takes_cash_and_stock_once(shared_app, shop_data, server):
    url = f"{server}/manage/points/{POINT}/orders/{shop_data['ready']}"
    clerks = [logged_in(server, email) for email in POINT_MANAGERS]
    forms = [{"csrf_token": form_token(clerk, url), "pickup_code": shop_data["pickup_code"]} for clerk in clerks]
    responses = run_together([_post(clerk, url + "/hand-over", form) for clerk, form in zip(clerks, forms)])
    _one_won(responses, refused_with="Only an order ready for pickup can be handed over")
    with shared_app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.number == shop_data["ready"]))
        assert order.status == OrderStatus.COMPLETED and order.paid_vnd == order.total_vnd
        assert db.session.scalar(sa.select(sa.func.count(CashCollection.id))
                                 .where(CashCollection.order_id == order.id)) == 1
        fulfilled = db.session.scalar(sa.select(sa.func.sum(StockMovement.quantity)).where(
            StockMovement.reference == order.number, StockMovement.kind == MovementKind.ORDER_FULFILMENT))
        assert fulfilled == -2
        _books_clean()
        db.session.remove()


def _refund_form(clerk, url: str, shop_data) -> dict:
    page = clerk.get(url, timeout=30).text
    keys = ONCE_KEY_RE.findall(page)
    assert keys, "the refund form carries a one-time key"
    return {"csrf_token": CSRF_RE.search(page).group(1), "once_key": keys[-1],
            "amount_vnd": str(shop_data["done_total"]),
            "reason": "Hàng bị vỡ", f"quantity_{shop_data['done_line']}": "1",
            f"restock_{shop_data['done_line']}": "y"}


@pytest.mark.parametrize("who", ["double click", "two managers"])
def test_a_cash_refund_sent_twice_at_once_pays_and_restocks_once(shared_app, shop_data, server, who):
    url = f"{server}/manage/points/{POINT}/orders/{shop_data['done']}"
    if who == "double click":  # the same form posted twice: the same one-time key
        clerk = logged_in(server, POINT_MANAGERS[0])
        form = _refund_form(clerk, url, shop_data)
        responses = run_together([_post(clerk, url + "/refund", form), _post(clerk, url + "/refund", form)])
        _same_result(responses)
    else:  # two managers, each with the page open: two keys, one refund
        clerks = [logged_in(server, email) for email in POINT_MANAGERS]
        forms = [_refund_form(clerk, url, shop_data) for clerk in clerks]
        responses = run_together([_post(clerk, url + "/refund", form) for clerk, form in zip(clerks, forms)])
        _one_won(responses, refused_with="cannot be more than what was paid and not yet refunded", ok=(303,))
    with shared_app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.number == shop_data["done"]))
        assert order.refunded_vnd == order.paid_vnd == shop_data["done_total"]
        assert order.status == OrderStatus.REFUNDED
        assert db.session.scalar(sa.select(sa.func.count(Refund.id)).where(Refund.order_id == order.id)) == 1
        restocked = db.session.scalar(sa.select(sa.func.sum(StockMovement.quantity)).where(
            StockMovement.reference == order.number, StockMovement.kind == MovementKind.RETURN))
        assert restocked == 1
        _books_clean()
        db.session.remove()


def test_cancelling_an_order_twice_at_once_releases_its_stock_once(shared_app, shop_data, server):
    url = f"{server}/manage/points/{POINT}/orders/{shop_data['confirmed']}"
    clerks = [logged_in(server, email) for email in POINT_MANAGERS]
    forms = [{"csrf_token": form_token(clerk, url), "reason": "Khách đổi ý"} for clerk in clerks]
    responses = run_together([_post(clerk, url + "/cancel", form) for clerk, form in zip(clerks, forms)])
    crashes = [r for r in responses if isinstance(r, Exception)]
    assert not crashes, crashes
    _one_won(responses, refused_with="not possible for the order in its current status", ok=(303,))
    with shared_app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.number == shop_data["confirmed"]))
        assert order.status == OrderStatus.CANCELLED
        _books_clean()
        db.session.remove()


def _checkout_form(guest: requests.Session, base: str, shop_data) -> dict:
    token = form_token(guest, f"{base}/products/{shop_data['slug']}")
    added = guest.post(base + "/cart/add", data={"csrf_token": token, "product_id": str(shop_data["product"]),
                                                 "quantity": "1"}, allow_redirects=False, timeout=30)
    assert added.status_code == 303
    page = guest.get(base + "/checkout", timeout=30).text
    return {"csrf_token": CSRF_RE.search(page).group(1), "once_key": ONCE_KEY_RE.search(page).group(1),
            "name": CONTACT.name, "phone": "0912 345 678", "email": "khach@example.vn", "fulfilment": "pickup",
            "pickup_point": POINT, "payment_method": "pay_at_pickup"}


def test_a_checkout_sent_twice_at_once_places_one_order(shared_app, shop_data, server):
    guest = requests.Session()
    guest.get(server + "/lang/en", timeout=30)
    form = _checkout_form(guest, server, shop_data)
    responses = run_together([_post(guest, server + "/checkout", form), _post(guest, server + "/checkout", form)])
    _same_result(responses)
    assert re.match(r"^/orders/DH-\d{6}\?key=", responses[0].headers["Location"])
    with shared_app.app_context():
        placed = db.session.scalars(sa.select(Order).where(Order.email == "khach@example.vn")).all()
        assert len(placed) == 1
        _books_clean()
        db.session.remove()


def test_a_counter_sale_sent_twice_at_once_sells_once(shared_app, shop_data, server):
    url = f"{server}/manage/points/{POINT}/counter"
    clerk = logged_in(server, POINT_MANAGERS[0])
    page = clerk.get(url, timeout=30).text
    form = {"csrf_token": CSRF_RE.search(page).group(1), "once_key": ONCE_KEY_RE.search(page).group(1),
            "payment_method": "cash", "product_id": str(shop_data["product"]), "quantity": "1"}
    responses = run_together([_post(clerk, url, form), _post(clerk, url, form)])
    _same_result(responses)
    with shared_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CounterSale.id))) == 1
        _books_clean()
        db.session.remove()


def test_a_receipt_sent_twice_at_once_receives_once(shared_app, shop_data, server):
    url = f"{server}/manage/points/{POINT}/receipts/new"
    clerk = logged_in(server, POINT_MANAGERS[0])
    page = clerk.get(url, timeout=30).text
    form = {"csrf_token": CSRF_RE.search(page).group(1), "once_key": ONCE_KEY_RE.search(page).group(1),
            "product": str(shop_data["product"]), "lot_code": "R-2026-12", "production_date": "2026-11-20",
            "expiry_date": "2027-11-20", "quantity": "7", "unit_cost_vnd": "90000", "delivery_note": "PX-1"}
    responses = run_together([_post(clerk, url, form), _post(clerk, url, form)])
    _same_result(responses)
    with shared_app.app_context():
        received = db.session.scalars(sa.select(StockMovement.quantity).where(
            StockMovement.kind == MovementKind.RECEIPT, StockMovement.reference == "PX-1")).all()
        assert received == [7]
        _books_clean()
        db.session.remove()


@pytest.mark.parametrize("action, number, form, message", [
    ("ready", "to_ready", {}, "not possible for the order in its current status"),
    ("ship", "to_ship", {"tracking_note": "VNPost EB999"}, "not possible for the order in its current status"),
    ("delivered", "shipped", {}, "Only a shipped delivery order can be marked delivered"),
])
def test_an_order_action_sent_twice_at_once_happens_once(shared_app, shop_data, server, action, number, form,
                                                          message):
    url = f"{server}/manage/points/{POINT}/orders/{shop_data[number]}"
    clerks = [logged_in(server, email) for email in POINT_MANAGERS]
    forms = [{"csrf_token": form_token(clerk, url), **form} for clerk in clerks]
    responses = run_together([_post(clerk, f"{url}/{action}", data) for clerk, data in zip(clerks, forms)])
    _one_won(responses, refused_with=message)
    with shared_app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.number == shop_data[number]))
        kinds = [event.kind for event in order.events]
        expected = {"ready": "ready_for_pickup", "ship": "shipped", "delivered": "delivered"}[action]
        assert kinds.count(expected) == 1, kinds
        if action == "delivered":  # cash on delivery: collected once
            assert db.session.scalar(sa.select(sa.func.count(CashCollection.id))
                                     .where(CashCollection.order_id == order.id)) == 1
        _books_clean()
        db.session.remove()


@pytest.mark.parametrize("step", ["submit", "conclude"])
def test_an_audit_step_sent_twice_at_once_happens_once(shared_app, shop_data, server, step):
    audit_id = shop_data["draft_audit" if step == "submit" else "submitted_audit"]
    url = f"{server}/department/audits/{audit_id}"
    officers = [logged_in(server, email) for email in OFFICERS]
    forms = [{"csrf_token": form_token(officer, url), **({"verdict": "meets"} if step == "conclude" else {})}
             for officer in officers]
    responses = run_together([_post(officer, f"{url}/{step}", data) for officer, data in zip(officers, forms)])
    _one_won(responses, refused_with="already submitted" if step == "submit" else "A concluded audit cannot be changed")
    with shared_app.app_context():
        audit = db.session.get(Audit, audit_id)
        assert audit.status == (AuditStatus.SUBMITTED if step == "submit" else AuditStatus.CONCLUDED)
        db.session.remove()


def test_a_recall_sent_twice_at_once_takes_the_lot_off_the_shelves_once(shared_app, shop_data, server):
    url = f"{server}/department/recalls/new"
    officers = [logged_in(server, email) for email in OFFICERS]
    forms = [{"csrf_token": form_token(officer, url), "product_id": str(shop_data["product"]),
              "lot_code": shop_data["lot_code"], "reason": "Nhiễm khuẩn"} for officer in officers]
    responses = run_together([_post(officer, url, data) for officer, data in zip(officers, forms)])
    _one_won(responses, refused_with="already recalled")
    with shared_app.app_context():
        pulled = db.session.scalars(sa.select(StockMovement.quantity).where(
            StockMovement.kind == MovementKind.RECALL, StockMovement.lot_id == shop_data["lot"])).all()
        assert len(pulled) == 1  # one recall row at the centre (the unit in transit is not on a shelf)
        _books_clean()
        db.session.remove()


def test_two_counts_of_the_same_sheet_at_once_apply_once(shared_app, shop_data, server):
    url = f"{server}/manage/points/{POINT}/count"
    clerks = [logged_in(server, email) for email in POINT_MANAGERS]
    forms = []
    for clerk in clerks:
        page = clerk.get(url, timeout=30).text
        # Lot P1: 8 on hand (5 of them held for orders); the clerk counts 6.
        fields = {re.findall(r'name="(counted_\d+)"', page)[0]: "6"}
        sheet = re.search(r'name="sheet"[^>]*value="([^"]*)"', page).group(1)
        forms.append({"csrf_token": CSRF_RE.search(page).group(1), "once_key": ONCE_KEY_RE.search(page).group(1),
                      "sheet": sheet, "note": "Kiểm kê cuối ngày", **fields})
    responses = run_together([_post(clerk, url, data) for clerk, data in zip(clerks, forms)])
    _one_won(responses, refused_with="changed while it was being counted")
    with shared_app.app_context():
        corrections = db.session.scalars(sa.select(StockMovement.quantity).where(
            StockMovement.note == "Kiểm kê cuối ngày")).all()
        assert corrections == [-2]
        _books_clean()
        db.session.remove()
