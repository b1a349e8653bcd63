"""The counter pages of a point: a sale posted by the form, lookups, receipts, returns, the day's reports,
and every refusal (bad input, stock, roles, another point's code or receipt)."""
import re
from datetime import date

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from shop.accounts.models import Role
from shop.core.money import format_vnd
from shop.extensions import db
from shop.inventory.models import (
    CounterReturn,
    CounterSale,
    Lot,
    MovementKind,
    StockLevel,
    StockMovement,
)
from shop.inventory.services import sell_at_counter
from shop.sales_points.models import PointStatus, SalesPoint
from tests.conftest import login, post_form
from tests.factories import make_point_manager, make_product, make_stock, make_user, recall_lot
from tests.test_accessibility import assert_accessible

GTIN = "8934567890120"
UNKNOWN_GTIN = "8934567890137"  # a valid check digit, but no product has it
BAD_CHECK_DIGIT = "8934567890121"


def sell(desk, *pairs, payment_method="cash"):
    """POST the counter form as a browser does: repeated product_id + quantity fields."""
    data = {"product_id": [str(p) for p, _q in pairs], "quantity": [str(q) for _p, q in pairs],
            "payment_method": payment_method}
    return post_form(desk.client, desk.url("/counter"), data)


def on_hand(desk) -> dict[str, int]:
    with desk.app.app_context():
        rows = db.session.execute(sa.select(Lot.lot_code, StockLevel.on_hand).join(Lot, Lot.id == StockLevel.lot_id)
                                  .where(StockLevel.point_id == desk.point_id))
        return dict(rows.all())


def count(desk, model) -> int:
    with desk.app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def page(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text(response) -> str:
    return re.sub(r"[ \t\r\n]+", " ", page(response).get_text(" "))  # keeps the no-break space of amounts


# ------------------------------------------------------------------------------------------------ selling

def test_a_sale_posted_by_the_form_takes_the_soonest_lot_first_and_shows_its_receipt(desk):
    response = sell(desk, (desk.product_id, 8), payment_method="card")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/manage/points/DN-XL-01/sales/DN-XL-01-000001")

    with desk.app.app_context():
        sale = db.session.scalar(sa.select(CounterSale))
        assert (sale.number, sale.total_vnd, sale.payment_method.value) == ("DN-XL-01-000001", 960_000, "card")
        ledger = db.session.execute(
            sa.select(Lot.lot_code, StockMovement.quantity, StockMovement.reference)
            .join(Lot, Lot.id == StockMovement.lot_id).where(StockMovement.kind == MovementKind.COUNTER_SALE)
            .order_by(StockMovement.id)).all()
    assert ledger == [("L-SOON", -6, sale.number), ("L-LATE", -2, sale.number)]
    assert on_hand(desk) == {"L-SOON": 0, "L-LATE": 8}

    receipt = desk.client.get(response.headers["Location"])
    assert receipt.status_code == 200
    body = page(receipt)
    assert body.select_one("[data-receipt-number]").get_text(strip=True) == "DN-XL-01-000001"
    assert body.select_one("[data-receipt-total]").get_text(strip=True) == "960.000\u00a0₫"
    lots = [row.select("td")[0].get_text(strip=True) for row in body.select(".receipt__lines tbody tr")]
    assert lots == ["L-SOON", "L-LATE"]
    assert "Điểm OCOP Xuân Lộc" in body.select_one(".receipt__head").get_text()


def test_the_same_product_on_two_lines_is_sold_once_with_both_quantities(desk):
    response = sell(desk, (desk.product_id, 2), (desk.product_id, 3))
    assert response.status_code == 303
    assert sum(on_hand(desk).values()) == 16 - 5


def stock_gone(desk):
    with desk.app.app_context():
        for lot in db.session.scalars(sa.select(Lot)).all():
            recall_lot(lot, reason="Bao bì hỏng")
        db.session.commit()


def close_point(desk):
    with desk.app.app_context():
        db.session.get(SalesPoint, desk.point_id).status = PointStatus.SUSPENDED
        db.session.commit()


@pytest.mark.parametrize("lines, payment, setup", [
    pytest.param([("{pid}", "17")], "cash", None, id="more-than-in-stock"),
    pytest.param([("{pid}", "9"), ("{pid}", "8")], "cash", None, id="two-lines-more-than-in-stock"),
    pytest.param([("{pid}", "0")], "cash", None, id="zero"),
    pytest.param([("{pid}", "-2")], "cash", None, id="negative"),
    pytest.param([("{pid}", "abc")], "cash", None, id="not-a-number"),
    pytest.param([("{pid}", "1.5")], "cash", None, id="not-whole"),
    pytest.param([("{pid}", "")], "cash", None, id="blank"),
    pytest.param([("999999", "1")], "cash", None, id="unknown-product"),
    pytest.param([("x", "1")], "cash", None, id="garbled-product"),
    pytest.param([], "cash", None, id="no-lines"),
    pytest.param([("{pid}", "1")] * 201, "cash", None, id="too-many-lines"),
    pytest.param([("{pid}", "1")], "bitcoin", None, id="unknown-payment"),
    pytest.param([("{pid}", "1")], "cash", stock_gone, id="recalled-lots-only"),
    pytest.param([("{pid}", "1")], "cash", close_point, id="point-not-open"),
])
def test_a_refused_sale_answers_400_with_the_message_and_changes_nothing(desk, lines, payment, setup):
    if setup:
        setup(desk)
    before = (on_hand(desk), count(desk, StockMovement), count(desk, CounterSale))
    data = {"product_id": [p.format(pid=desk.product_id) for p, _q in lines], "quantity": [q for _p, q in lines],
            "payment_method": payment}
    response = post_form(desk.client, desk.url("/counter"), data)
    assert response.status_code == 400
    body = page(response)
    assert body.select_one('.error-summary[role="alert"]'), "the refusal is announced at the top of the form"
    assert (on_hand(desk), count(desk, StockMovement), count(desk, CounterSale)) == before
    assert_accessible(body, "counter (refused)")
    # The lines typed are shown again, so the cashier corrects rather than starts over.
    if lines and lines[0][0] == "{pid}":
        assert body.select_one(f'#lines input[name=product_id][value="{desk.product_id}"]')


def test_insufficient_stock_names_the_product_and_what_is_left(desk):
    desk.client.get("/lang/en")
    response = sell(desk, (desk.product_id, 17))
    assert response.status_code == 400
    message = " ".join(page(response).select_one("#lines-error").get_text(" ").split())
    assert "Hạt điều rang muối" in message and "16" in message and "17" in message


def test_a_sale_with_an_expired_lot_takes_only_the_good_one(desk):
    with desk.app.app_context():
        db.session.execute(sa.update(Lot).where(Lot.lot_code == "L-SOON")
                           .values(production_date=date(2020, 1, 1), expiry_date=date(2020, 6, 1)))
        db.session.commit()
    assert sell(desk, (desk.product_id, 11)).status_code == 400, "only the 10 units of L-LATE are sellable"
    assert sell(desk, (desk.product_id, 10)).status_code == 303
    assert on_hand(desk) == {"L-SOON": 6, "L-LATE": 0}


# ------------------------------------------------------------------------------------------------ the page

def test_the_counter_page_without_javascript_adds_a_scanned_line_and_lists_names(desk):
    scanned = desk.client.get(desk.url(f"/counter?q={GTIN}"))
    assert scanned.status_code == 200
    body = page(scanned)
    assert body.select_one(f'#lines input[name=product_id][value="{desk.product_id}"]')
    assert body.select_one("#lines input[name=quantity]")["value"] == "1"
    assert body.select_one("[data-total]").get_text(strip=True) == format_vnd(120_000)
    assert body.select_one("#counter-q")["value"] == "", "the box is empty for the next scan"

    # A second scan of the same product: one line of two, carried in the URL of the search form.
    again = page(desk.client.get(desk.url(f"/counter?q={GTIN}&product_id={desk.product_id}&quantity=1")))
    assert [i["value"] for i in again.select("#lines input[name=quantity]")] == ["2"]
    assert again.select_one("[data-total]").get_text(strip=True) == format_vnd(240_000)

    named = page(desk.client.get(desk.url("/counter?q=hat+dieu")))
    add = named.select_one("#counter-results a[data-add]")
    assert add and f"product_id={desk.product_id}" in add["href"] and "quantity=1" in add["href"]
    assert not named.select("#lines input[name=product_id]"), "a name search only lists; the cashier picks"
    added = page(desk.client.get(add["href"]))
    assert [i["value"] for i in added.select("#lines input[name=quantity]")] == ["1"]
    removed = page(desk.client.get(added.select_one("#lines a[data-remove]")["href"]))
    assert not removed.select("#lines input[name=product_id]")
    assert_accessible(named, "counter (search)")
    assert_accessible(again, "counter (lines)")


def test_the_counter_page_says_when_a_scanned_code_is_wrong_or_unknown(desk):
    desk.client.get("/lang/en")
    bad = page(desk.client.get(desk.url(f"/counter?q={BAD_CHECK_DIGIT}")))
    assert "last digit" in bad.select_one("#counter-status").get_text()
    unknown = page(desk.client.get(desk.url(f"/counter?q={UNKNOWN_GTIN}")))
    assert UNKNOWN_GTIN in unknown.select_one("#counter-status").get_text()
    assert not unknown.select("#lines input[name=product_id]")


def test_the_counter_page_loads_its_script_and_stylesheet(desk):
    body = page(desk.client.get(desk.url("/counter")))
    scripts = [s["src"] for s in body.select("script[src]")]
    assert "/static/js/counter.js" in scripts
    assert body.select_one('link[href="/static/css/counter.css"]')
    for asset in ("/static/js/counter.js", "/static/css/counter.css"):
        response = desk.client.get(asset)
        assert response.status_code == 200
        response.close()


# ------------------------------------------------------------------------------------------------ lookup

def test_lookup_finds_a_product_by_its_barcode_with_what_is_available(desk):
    response = desk.client.get(desk.url(f"/counter/lookup?q={GTIN}"))
    assert response.status_code == 200
    assert response.get_json() == [{"id": desk.product_id, "name": "Hạt điều rang muối", "gtin": GTIN,
                                    "price_vnd": 120_000, "price": "120.000\u00a0₫", "available": 16}]


@pytest.mark.parametrize("query", ["Hạt điều", "hat dieu", "HAT DIEU", "dieu rang", "hạt điều rang muối"])
def test_lookup_finds_a_product_by_name_with_or_without_diacritics(desk, query):
    response = desk.client.get(desk.url("/counter/lookup"), query_string={"q": query})
    assert response.status_code == 200
    assert [item["id"] for item in response.get_json()] == [desk.product_id]


def test_lookup_lists_only_what_this_point_can_sell(desk):
    with desk.app.app_context():
        other = db.session.get(SalesPoint, desk.other_id)
        elsewhere = make_product(name="Hạt điều tẩm gia vị", price_vnd=90_000)
        make_stock(other, elsewhere, make_point_manager(other), lot_code="B1", quantity=5)
        db.session.commit()
    names = [item["name"] for item in desk.client.get(desk.url("/counter/lookup?q=hat+dieu")).get_json()]
    assert names == ["Hạt điều rang muối"], "a product stocked only at another point is not offered"
    assert desk.client.get(desk.url("/counter/lookup?q=mat+ong")).get_json() == []


def test_lookup_of_an_unknown_barcode_is_a_json_404(desk):
    response = desk.client.get(desk.url(f"/counter/lookup?q={UNKNOWN_GTIN}"))
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "unknown_gtin" and UNKNOWN_GTIN in error["message"]


def test_lookup_of_a_known_barcode_not_in_stock_here_says_so(desk):
    with desk.app.app_context():
        make_product(name="Mật ong hoa điều", price_vnd=90_000, gtin="8936294000025")
        db.session.commit()
    response = desk.client.get(desk.url("/counter/lookup?q=8936294000025"))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_in_stock"


def test_lookup_of_a_barcode_with_a_wrong_check_digit_is_a_json_400(desk):
    response = desk.client.get(desk.url(f"/counter/lookup?q={BAD_CHECK_DIGIT}"))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_gtin"


# ------------------------------------------------------------------------------------------------ scope

def test_another_points_code_is_refused(desk):
    assert desk.client.get(desk.url("/counter", code=desk.other_code)).status_code == 403
    assert desk.client.get(desk.url(f"/counter/lookup?q={GTIN}", code=desk.other_code)).status_code == 403
    assert desk.client.get(desk.url("/sales", code=desk.other_code)).status_code == 403
    assert desk.client.get(desk.url("/cash-summary", code=desk.other_code)).status_code == 403
    before = count(desk, CounterSale)
    response = post_form(desk.client, desk.url("/counter", code=desk.other_code),
                         {"product_id": str(desk.product_id), "quantity": "1", "payment_method": "cash"},
                         form_url=desk.url("/counter"))
    assert response.status_code == 403
    assert count(desk, CounterSale) == before
    assert desk.client.get(desk.url("/counter", code="DN-XX-99")).status_code == 404


def test_another_points_receipt_is_not_found_here(desk):
    with desk.app.app_context():
        other = db.session.get(SalesPoint, desk.other_id)
        their_manager = make_point_manager(other)
        product = make_product(name="Mật ong rừng", price_vnd=90_000)
        make_stock(other, product, their_manager, lot_code="M1", quantity=3)
        number = sell_at_counter(other, [(product, 1)], payment_method="cash", actor=their_manager).number
        db.session.commit()
    assert desk.client.get(desk.url(f"/sales/{number}")).status_code == 404
    assert desk.client.get(desk.url(f"/sales/{number}/return")).status_code == 404
    assert desk.client.get(desk.url(f"/sales/{number}", code=desk.other_code)).status_code == 403
    assert desk.client.get(desk.url("/sales/DN-XL-01-999999")).status_code == 404


def test_a_trade_officer_reads_the_counter_pages_but_cannot_sell_or_refund(desk):
    sell(desk, (desk.product_id, 1))
    with desk.app.app_context():
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        db.session.commit()
    officer = desk.app.test_client()
    login(officer, "officer@example.vn")
    number = "DN-XL-01-000001"
    for path in ("/sales", "/cash-summary", f"/sales/{number}", "/counter"):
        assert officer.get(desk.url(path)).status_code == 200, path
    counter = page(officer.get(desk.url("/counter")))
    assert not counter.select("#counter-sale button[type=submit]"), "no sale button for a reader"
    before = (count(desk, CounterSale), count(desk, CounterReturn), on_hand(desk))
    token_page = desk.url("/sales")
    assert post_form(officer, desk.url("/counter"), {"product_id": str(desk.product_id), "quantity": "1",
                                                     "payment_method": "cash"}, form_url=token_page).status_code == 403
    assert post_form(officer, desk.url(f"/sales/{number}/return"), {"line_1": "1", "reason": "x"},
                     form_url=token_page).status_code == 403
    assert (count(desk, CounterSale), count(desk, CounterReturn), on_hand(desk)) == before


def test_the_counter_needs_a_login(client):
    response = client.get("/manage/points/DN-XL-01/counter")
    assert response.status_code in (302, 401)


# ------------------------------------------------------------------------------------------------ returns

def sale_line_ids(desk) -> list[int]:
    with desk.app.app_context():
        return [line.id for line in db.session.scalar(sa.select(CounterSale)).lines]


def test_a_return_puts_goods_back_and_shows_the_refund(desk):
    sell(desk, (desk.product_id, 8))  # 6 from L-SOON, 2 from L-LATE
    soon, late = sale_line_ids(desk)
    number = "DN-XL-01-000001"
    form = desk.client.get(desk.url(f"/sales/{number}/return"))
    assert form.status_code == 200
    assert_accessible(page(form), "return form")

    desk.client.get("/lang/en")
    response = post_form(desk.client, desk.url(f"/sales/{number}/return"),
                         {f"line_{soon}": "2", f"line_{late}": "0", "reason": "Khách đổi ý", "restock": "y"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/sales/{number}")
    assert on_hand(desk) == {"L-SOON": 2, "L-LATE": 8}
    receipt = desk.client.get(response.headers["Location"])
    words = text(receipt)
    assert format_vnd(240_000) in words and "Refund" in words
    assert "DN-XL-01-TH-000001" in words


def test_damaged_goods_come_back_and_are_written_off(desk):
    sell(desk, (desk.product_id, 2))
    (line,) = sale_line_ids(desk)
    response = post_form(desk.client, desk.url("/sales/DN-XL-01-000001/return"),
                         {f"line_{line}": "1", "reason": "Bao bì rách"})  # restock unticked
    assert response.status_code == 303
    assert on_hand(desk) == {"L-SOON": 4, "L-LATE": 10}
    with desk.app.app_context():
        kinds = db.session.scalars(sa.select(StockMovement.kind).where(
            StockMovement.reference == "DN-XL-01-TH-000001").order_by(StockMovement.id)).all()
    assert kinds == [MovementKind.RETURN, MovementKind.ADJUSTMENT]


@pytest.mark.parametrize("quantity, reason", [("3", "Khách đổi ý"), ("-1", "Khách đổi ý"), ("abc", "Khách đổi ý"),
                                              ("0", "Khách đổi ý"), ("1", "")],
                         ids=["more-than-sold", "negative", "not-a-number", "nothing", "no-reason"])
def test_a_refused_return_changes_nothing(desk, quantity, reason):
    sell(desk, (desk.product_id, 2))
    (line,) = sale_line_ids(desk)
    before = (on_hand(desk), count(desk, StockMovement))
    response = post_form(desk.client, desk.url("/sales/DN-XL-01-000001/return"),
                         {f"line_{line}": quantity, "reason": reason, "restock": "y"})
    assert response.status_code == 400
    assert page(response).select_one('.error-summary[role="alert"]')
    assert (on_hand(desk), count(desk, StockMovement), count(desk, CounterReturn)) == (*before, 0)


def test_a_second_return_cannot_exceed_what_is_left(desk):
    sell(desk, (desk.product_id, 2))
    (line,) = sale_line_ids(desk)
    url = desk.url("/sales/DN-XL-01-000001/return")
    assert post_form(desk.client, url, {f"line_{line}": "2", "reason": "Đổi ý", "restock": "y"}).status_code == 303
    assert post_form(desk.client, url, {f"line_{line}": "1", "reason": "Đổi ý", "restock": "y"}).status_code == 400
    assert count(desk, CounterReturn) == 1
    receipt = page(desk.client.get(desk.url("/sales/DN-XL-01-000001")))
    assert not receipt.select_one('a[href$="/return"]'), "nothing left to return: no return button"


# ------------------------------------------------------------------------------------------------ the day

def method_row(body, method: str) -> dict[str, str]:
    row = body.select_one(f'#cash-by-method tr[data-method="{method}"]')
    return {name: row.select_one(f"[data-{name}]").get_text(strip=True)
            for name in ("sales-count", "sales-total", "refunds-count", "refunds-total", "net")}


def test_the_cash_summary_totals_each_payment_method_with_refunds(desk):
    assert sell(desk, (desk.product_id, 2), payment_method="cash").status_code == 303
    assert sell(desk, (desk.product_id, 1), payment_method="card").status_code == 303
    with desk.app.app_context():
        line = db.session.scalar(sa.select(CounterSale).where(CounterSale.number == "DN-XL-01-000001")).lines[0]
        line_id = line.id
    assert post_form(desk.client, desk.url("/sales/DN-XL-01-000001/return"),
                     {f"line_{line_id}": "1", "reason": "Khách đổi ý", "restock": "y"}).status_code == 303

    response = desk.client.get(desk.url("/cash-summary"))
    assert response.status_code == 200
    body = page(response)
    assert method_row(body, "cash") == {"sales-count": "1", "sales-total": format_vnd(240_000), "refunds-count": "1",
                                        "refunds-total": format_vnd(120_000), "net": format_vnd(120_000)}
    assert method_row(body, "card") == {"sales-count": "1", "sales-total": format_vnd(120_000), "refunds-count": "0",
                                        "refunds-total": format_vnd(0), "net": format_vnd(120_000)}
    assert method_row(body, "bank_transfer")["sales-count"] == "0"
    assert body.select_one("[data-cash-expected]").get_text(strip=True) == format_vnd(120_000)
    receipts = [a.get_text(strip=True) for a in body.select("a.mono")]
    assert "DN-XL-01-000001" in receipts and "DN-XL-01-000002" in receipts
    assert_accessible(body, "cash summary")


def test_the_sales_of_a_day_list_the_receipts_with_their_total(desk):
    sell(desk, (desk.product_id, 2))
    sell(desk, (desk.product_id, 1), payment_method="bank_transfer")
    body = page(desk.client.get(desk.url("/sales")))
    numbers = [a.get_text(strip=True) for a in body.select("table a.mono")]
    assert numbers == ["DN-XL-01-000001", "DN-XL-01-000002"]
    assert format_vnd(360_000) in body.select_one("[data-sales-totals]").get_text()
    assert_accessible(body, "sales of the day")

    yesterday = body.select_one(".day-nav a")["href"]
    empty = page(desk.client.get(yesterday))
    assert not empty.select("table a.mono")
    assert desk.client.get(desk.url("/sales?day=2026-13-45")).status_code == 400
    assert desk.client.get(desk.url("/cash-summary?day=yesterday")).status_code == 400


def test_the_receipt_is_printable(desk):
    sell(desk, (desk.product_id, 1))
    body = page(desk.client.get(desk.url("/sales/DN-XL-01-000001")))
    assert body.select_one("button[data-print][hidden]"), "the print button appears with the script"
    assert body.select_one('link[href="/static/css/counter.css"]')
    assert_accessible(body, "receipt")
