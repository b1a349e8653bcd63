"""The stock pages of a point's back office, through the browser's eyes: what a manager sees, what each form
records in the ledger, and what is refused (bad numbers, another point's code or stock level, a read-only role)."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from shop.accounts.models import Role
from shop.core.clock import today
from shop.core.money import format_vnd
from shop.extensions import db
from shop.inventory.models import AdjustmentReason, Lot, StockLevel, StockMovement
from shop.inventory.services import sell_at_counter
from shop.sales_points.models import SalesPoint
from tests.conftest import csrf_token, login, post_form
from tests.factories import make_product, make_stock, make_user, recall_lot
from tests.test_accessibility import assert_accessible

PAGES = ["/stock", "/stock?q=hat+dieu&empty=1", "/receipts", "/receipts/new", "/adjustments/new", "/count",
         "/movements", "/movements?kind=receipt&q=L-SOON&date_from=2020-01-01&date_to=2099-12-31",
         "/transfers", "/transfers/new"]


def ledger(desk, point_id=None) -> list[tuple]:
    with desk.app.app_context():
        rows = db.session.scalars(sa.select(StockMovement).where(StockMovement.point_id == (point_id or desk.point_id))
                                  .order_by(StockMovement.id))
        return [(m.kind.value, m.quantity, m.reference, m.actor_id, m.reason and m.reason.value) for m in rows]


def on_hand(desk, lot_code: str, point_id=None) -> int | None:
    with desk.app.app_context():
        return db.session.scalar(sa.select(StockLevel.on_hand).join(Lot, Lot.id == StockLevel.lot_id)
                                 .where(StockLevel.point_id == (point_id or desk.point_id), Lot.lot_code == lot_code))


def level_id(desk, lot_code: str, point_id=None) -> int:
    with desk.app.app_context():
        return db.session.scalar(sa.select(StockLevel.id).join(Lot, Lot.id == StockLevel.lot_id)
                                 .where(StockLevel.point_id == (point_id or desk.point_id), Lot.lot_code == lot_code))


def page_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def receipt(desk, **changes) -> dict:
    data = {"product": desk.product_id, "lot_code": "L-NEW",
            "production_date": (today() - timedelta(days=3)).isoformat(),
            "expiry_date": (today() + timedelta(days=90)).isoformat(), "quantity": "24", "unit_cost_vnd": "85000",
            "delivery_note": "PGH-2026-17"}
    data.update(changes)
    return data


def stock_at_other_point(desk, lot_code: str = "L-BH") -> int:
    """A level at DN-BH-01, which the desk's manager does not manage."""
    with desk.app.app_context():
        other = db.session.get(SalesPoint, desk.other_id)
        product = make_product(name="Mật ong rừng")
        make_stock(other, product, make_user(Role.POINT_MANAGER), lot_code=lot_code, quantity=5)
        db.session.commit()
    return level_id(desk, lot_code, desk.other_id)


def as_officer(desk):
    with desk.app.app_context():
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        db.session.commit()
    client = desk.app.test_client()
    login(client, "officer@example.vn")
    return client


# ------------------------------------------------------------------------------------------------ pages

@pytest.mark.parametrize("path", PAGES)
def test_every_stock_page_renders_for_the_manager_and_follows_the_accessibility_rules(desk, path):
    response = desk.client.get(desk.url(path))
    assert response.status_code == 200, path
    assert_accessible(page_of(response), path)
    assert 'href="/static/css/stock.css"' in response.get_data(as_text=True)


def test_the_stock_page_shows_each_lot_with_its_quantities_and_expiry_warning(desk):
    page = page_of(desk.client.get(desk.url("/stock?lang=en")))
    rows = {row.th.get_text(strip=True): [td.get_text(" ", strip=True) for td in row.find_all("td")]
            for row in page.select("tbody tr") if row.th and row.th.get("scope") == "row"}
    assert set(rows) == {"L-SOON", "L-LATE"}
    assert rows["L-SOON"][3:6] == ["6", "0", "6"] and "Expires soon" in rows["L-SOON"][2]
    assert rows["L-LATE"][3:6] == ["10", "0", "10"] and rows["L-LATE"][2] == ""
    assert rows["L-LATE"][6] == format_vnd(800_000)  # 10 units at the receipt's unit cost of 80,000
    assert "8934567890120" in page.select_one("tbody th[scope=rowgroup]").get_text()


def test_the_stock_filter_ignores_accents_and_hides_what_does_not_match(desk):
    assert "L-SOON" in desk.client.get(desk.url("/stock?q=HAT+DIEU")).get_data(as_text=True)
    assert "L-SOON" in desk.client.get(desk.url("/stock?q=8934567890120")).get_data(as_text=True)
    assert "L-SOON" not in desk.client.get(desk.url("/stock?q=cà+phê")).get_data(as_text=True)


def test_a_recalled_lot_is_flagged_and_counts_nothing_available(desk):
    with desk.app.app_context():
        lot = db.session.scalar(sa.select(Lot).where(Lot.lot_code == "L-LATE"))
        recall_lot(lot, reason="Nhiễm nấm mốc", actor=make_user(Role.TRADE_OFFICER))
        db.session.commit()
    page = desk.client.get(desk.url("/stock?lang=en&empty=1")).get_data(as_text=True)
    assert "Recalled" in page
    pulled = page_of(desk.client.get(desk.url("/recalls"))).select("tbody tr")
    cells = [[c.get_text(" ", strip=True) for c in row.find_all(["th", "td"])][:4] for row in pulled]
    assert len(cells) == 1 and cells[0][0].split()[0] == "L-LATE"  # the lot code, then its trace code
    assert cells[0][1:] == ["Hạt điều rang muối", "10", "Nhiễm nấm mốc"]


# --------------------------------------------------------------------------------------------- receipts

def test_a_receipt_puts_the_goods_on_the_shelf_with_one_ledger_row(desk):
    response = post_form(desk.client, desk.url("/receipts/new"), receipt(desk))
    assert response.status_code == 302 and response.headers["Location"].endswith(desk.url("/stock"))
    assert ledger(desk)[-1] == ("receipt", 24, "PGH-2026-17", desk.manager_id, None)
    assert on_hand(desk, "L-NEW") == 24
    listed = desk.client.get(desk.url("/receipts")).get_data(as_text=True)
    assert "PGH-2026-17" in listed and "L-NEW" in listed and format_vnd(2_040_000) in listed  # 24 × 85,000


def test_the_receipt_form_offers_only_products_with_a_qualifying_basis(desk):
    with desk.app.app_context():
        lapsed = make_product(name="Bánh tráng phơi sương", stars=None)
        weak = make_product(name="Rượu nếp", stars=2)
        db.session.commit()
        refused = {lapsed.id, weak.id}
    options = {int(o["value"]) for o in page_of(desk.client.get(desk.url("/receipts/new"))).select("#product option")
               if o["value"]}
    assert desk.product_id in options and not options & refused


@pytest.mark.parametrize("quantity", ["0", "-3", "abc", "2.5", ""])
def test_a_receipt_refuses_a_quantity_that_is_not_a_positive_whole_number(desk, quantity):
    before = ledger(desk)
    response = post_form(desk.client, desk.url("/receipts/new"), receipt(desk, quantity=quantity))
    assert response.status_code == 400
    page = page_of(response)
    assert page.select_one("#quantity")["aria-invalid"] == "true"
    assert page.select_one('.error-summary a[href="#quantity"]')
    assert_accessible(page, "receipt form with errors")
    assert ledger(desk) == before


@pytest.mark.parametrize("unit_cost", ["-1", "80.000đ"])
def test_a_receipt_refuses_a_bad_unit_cost(desk, unit_cost):
    response = post_form(desk.client, desk.url("/receipts/new"), receipt(desk, unit_cost_vnd=unit_cost))
    assert response.status_code == 400 and page_of(response).select_one("#unit_cost_vnd")["aria-invalid"] == "true"
    assert on_hand(desk, "L-NEW") is None


def test_a_receipt_refuses_an_expiry_before_the_production_date_on_that_field(desk):
    data = receipt(desk, production_date=(today() - timedelta(days=3)).isoformat(),
                   expiry_date=(today() - timedelta(days=5)).isoformat())
    response = post_form(desk.client, desk.url("/receipts/new?lang=en"), data)
    assert response.status_code == 400
    errors = page_of(response).select_one("#expiry_date-error").get_text()
    assert "before the production date" in errors
    assert on_hand(desk, "L-NEW") is None


def test_a_receipt_of_a_product_without_a_qualifying_basis_shows_the_reason(desk):
    with desk.app.app_context():
        uncertified = make_product(name="Bánh pía", stars=None).id
        db.session.commit()
    response = post_form(desk.client, desk.url("/receipts/new?lang=en"), receipt(desk, product=uncertified))
    assert response.status_code == 400
    assert "no valid OCOP certificate" in page_of(response).select_one("#product-error").get_text()
    assert on_hand(desk, "L-NEW") is None


def test_a_receipt_needs_a_product_a_lot_and_a_delivery_note(desk):
    response = post_form(desk.client, desk.url("/receipts/new"),
                         receipt(desk, product="", lot_code="", delivery_note=""))
    assert response.status_code == 400
    page = page_of(response)
    assert all(page.select_one(f"#{name}")["aria-invalid"] == "true"
               for name in ("product", "lot_code", "delivery_note"))


def test_another_points_code_in_the_url_is_refused(desk):
    assert desk.client.get(desk.url("/stock", code=desk.other_code)).status_code == 403
    token = csrf_token(desk.client, desk.url("/receipts/new"))
    response = desk.client.post(desk.url("/receipts/new", code=desk.other_code), data={"csrf_token": token,
                                                                                      **receipt(desk)})
    assert response.status_code == 403
    assert ledger(desk, desk.other_id) == []


def test_a_trade_officer_reads_the_stock_pages_but_cannot_record_anything(desk):
    officer = as_officer(desk)
    for path in ("/stock", "/receipts", "/movements", "/count", "/transfers"):
        assert officer.get(desk.url(path)).status_code == 200, path
    assert "Record the count" not in officer.get(desk.url("/count?lang=en")).get_data(as_text=True)
    token = csrf_token(officer, "/")
    assert officer.post(desk.url("/receipts/new"), data={"csrf_token": token, **receipt(desk)}).status_code == 403
    assert on_hand(desk, "L-NEW") is None


# ------------------------------------------------------------------------------------------ adjustments

def test_an_adjustment_writes_a_row_with_its_reason(desk):
    level = level_id(desk, "L-LATE")
    chosen = page_of(desk.client.get(desk.url(f"/adjustments/new?level={level}"))).select("#level option[selected]")
    assert [option["value"] for option in chosen] == [str(level)]  # the stock page's "Adjust" link preselects
    response = post_form(desk.client, desk.url("/adjustments/new"),
                         {"level": level, "delta": "-2", "reason": "damaged", "note": "Rơi vỡ"})
    assert response.status_code == 302
    assert ledger(desk)[-1] == ("adjustment", -2, None, desk.manager_id, "damaged")
    assert on_hand(desk, "L-LATE") == 8


@pytest.mark.parametrize("delta, reason", [("0", "lost"), ("abc", "lost"), ("-11", "lost"), ("-1", ""),
                                           ("-1", "stolen")])
def test_an_adjustment_refuses_a_bad_change_or_reason(desk, delta, reason):
    before = ledger(desk)
    response = post_form(desk.client, desk.url("/adjustments/new"),
                         {"level": level_id(desk, "L-LATE"), "delta": delta, "reason": reason})
    assert response.status_code == 400
    assert ledger(desk) == before and on_hand(desk, "L-LATE") == 10


def test_a_stock_level_of_another_point_is_not_found(desk):
    foreign = stock_at_other_point(desk)
    assert desk.client.get(desk.url(f"/adjustments/new?level={foreign}")).status_code == 404
    response = post_form(desk.client, desk.url("/adjustments/new"), {"level": foreign, "delta": "-5", "reason": "lost"})
    assert response.status_code == 404
    assert on_hand(desk, "L-BH", desk.other_id) == 5


def test_the_adjustment_reasons_are_labelled_not_raw_codes(desk):
    page = page_of(desk.client.get(desk.url("/adjustments/new?lang=vi")))
    labels = [o.get_text() for o in page.select("#reason option")]
    assert len(labels) == len(AdjustmentReason) + 1 and "damaged" not in labels


# ----------------------------------------------------------------------------------------------- counts

def count_sheet(desk, path="/count") -> dict:
    page = page_of(desk.client.get(desk.url(path)))
    return {"sheet": page.select_one("input[name=sheet]")["value"]}


def test_a_count_records_only_the_differences_of_the_lines_filled_in(desk):
    soon, late = level_id(desk, "L-SOON"), level_id(desk, "L-LATE")
    data = {**count_sheet(desk), f"counted_{soon}": "4", f"counted_{late}": "", "note": "Kiểm kê tháng 11"}
    response = post_form(desk.client, desk.url("/count"), data)
    assert response.status_code == 302
    assert ledger(desk)[-1] == ("adjustment", -2, None, desk.manager_id, "count_correction")
    assert (on_hand(desk, "L-SOON"), on_hand(desk, "L-LATE")) == (4, 10)
    shown = page_of(desk.client.get(response.headers["Location"]))
    assert [row.select("td")[3].get_text(strip=True)
            for row in shown.select("#recorded-title ~ div tbody tr")] == ["−2"]


def test_a_count_that_matches_records_nothing(desk):
    soon = level_id(desk, "L-SOON")
    response = post_form(desk.client, desk.url("/count"), {**count_sheet(desk), f"counted_{soon}": "6"})
    assert response.status_code == 302 and len(ledger(desk)) == 2


def test_a_count_is_refused_when_the_stock_moved_since_the_sheet_was_printed(desk):
    sheet = count_sheet(desk)
    with desk.app.app_context():
        point = db.session.get(SalesPoint, desk.point_id)
        product = point.products[0].product
        sell_at_counter(point, [(product, 1)], payment_method="cash", actor=make_user(Role.POINT_MANAGER))
        db.session.commit()
    soon = level_id(desk, "L-SOON")
    before = ledger(desk)
    response = post_form(desk.client, desk.url("/count?lang=en"), {**sheet, f"counted_{soon}": "6"})
    assert response.status_code == 400
    assert "changed while it was being counted" in page_of(response).select_one(".stock-problems").get_text()
    assert ledger(desk) == before


@pytest.mark.parametrize("counted", ["-1", "abc"])
def test_a_count_refuses_a_bad_number(desk, counted):
    soon = level_id(desk, "L-SOON")
    response = post_form(desk.client, desk.url("/count"), {**count_sheet(desk), f"counted_{soon}": counted})
    assert response.status_code == 400
    page = page_of(response)
    assert page.select_one(f"#counted_{soon}")["aria-invalid"] == "true" and page.select_one(f"#counted_{soon}-error")
    assert_accessible(page, "count sheet with errors")
    assert len(ledger(desk)) == 2


def test_an_empty_count_is_refused(desk):
    response = post_form(desk.client, desk.url("/count"), count_sheet(desk))
    assert response.status_code == 400 and len(ledger(desk)) == 2


# ----------------------------------------------------------------------------------------------- ledger

def ledger_rows(desk, query: str = "") -> list[list[str]]:
    page = page_of(desk.client.get(desk.url(f"/movements{query}")))
    return [[cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])] for row in page.select("tbody tr")]


def test_the_ledger_lists_every_row_newest_first_with_who_and_why(desk):
    post_form(desk.client, desk.url("/adjustments/new"),
              {"level": level_id(desk, "L-SOON"), "delta": "-1", "reason": "sample_promotion", "note": "Dùng thử"})
    rows = ledger_rows(desk)
    assert [(row[3], row[4], row[5]) for row in rows] == [("L-SOON", "−1", ""), ("L-LATE", "+10", "PGH-001"),
                                                          ("L-SOON", "+6", "PGH-001")]
    assert all("xuanloc@example.vn" in row[6] for row in rows)
    assert "Dùng thử" in rows[0][7]


def test_the_ledger_filters_by_kind_product_and_dates(desk):
    post_form(desk.client, desk.url("/adjustments/new"),
              {"level": level_id(desk, "L-SOON"), "delta": "-1", "reason": "lost"})
    assert [row[3] for row in ledger_rows(desk, "?kind=adjustment")] == ["L-SOON"]
    assert [row[3] for row in ledger_rows(desk, "?q=l-late")] == ["L-LATE"]
    assert len(ledger_rows(desk, "?q=hạt+điều")) == 3 and ledger_rows(desk, "?q=mật+ong") == []
    yesterday, tomorrow = today() - timedelta(days=1), today() + timedelta(days=1)
    assert len(ledger_rows(desk, f"?date_from={yesterday}&date_to={tomorrow}")) == 3
    assert ledger_rows(desk, f"?date_from={tomorrow}") == []
    assert len(ledger_rows(desk, "?date_from=not-a-date&kind=nonsense")) == 3  # a bad filter is ignored, not a 500


def test_the_ledger_is_paginated(desk):
    with desk.app.app_context():
        point = db.session.get(SalesPoint, desk.point_id)
        product = point.products[0].product
        actor = make_user(Role.POINT_MANAGER)
        for n in range(55):
            make_stock(point, product, actor, lot_code="L-LATE", quantity=1, expires_in_days=200,
                       produced_days_ago=10, delivery_note=f"PGH-{n:03d}")
        db.session.commit()
    assert len(ledger_rows(desk)) == 50
    assert len(ledger_rows(desk, "?page=2")) == 7
