"""The import and export page of a point: downloads that open in Excel with the point's lots, uploads stored
whole or not at all (400 with the table of errors), dry runs, and who may do what."""
import csv
import io
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from shop.accounts.models import Role
from shop.core.clock import today
from shop.extensions import db
from shop.inventory.imports import COUNT, RECEIPTS
from shop.inventory.models import AdjustmentReason, StockLevel, StockMovement
from tests.conftest import csrf_token, login
from tests.factories import make_user
from tests.test_accessibility import assert_accessible

GTIN = "8934567890120"  # the desk's cashews


def produced(days_ago: int = 3) -> str:
    return (today() - timedelta(days=days_ago)).strftime("%d/%m/%Y")


GOOD_LINE = f"{GTIN},,L-NEW,{produced()},,12,85000,PGH-500"


def receipts_csv(*lines: str, header: str = ",".join(RECEIPTS.headers)) -> bytes:
    return "\r\n".join([header, *lines]).encode("utf-8")


def upload(desk, what: str, content: bytes, filename: str = "nhap.csv", dry_run: bool = False, code=None):
    data = {"csrf_token": csrf_token(desk.client, desk.url("/files")), "file": (io.BytesIO(content), filename)}
    if dry_run:
        data["dry_run"] = "y"
    return desk.client.post(desk.url(f"/import/{what}", code=code), data=data, content_type="multipart/form-data")


def ledger(desk) -> list[tuple]:
    with desk.app.app_context():
        return db.session.execute(sa.select(StockMovement.kind, StockMovement.quantity, StockMovement.reference)
                                  .where(StockMovement.point_id == desk.point_id)
                                  .order_by(StockMovement.id)).all()


def error_rows(response) -> list[tuple[str, str]]:
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return [tuple(cell.get_text(strip=True) for cell in row.find_all("td"))[:2]
            for row in page.select("tr.import-error")]


# ------------------------------------------------------------------------------------------------ page

def test_the_page_offers_both_exports_templates_and_uploads(desk):
    response = desk.client.get(desk.url("/files"))
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert_accessible(page, desk.url("/files"))
    links = {a["href"] for a in page.find_all("a", href=True)}
    for href in ("/export/stock.csv", "/export/stock.xlsx", "/template/receipts.csv", "/template/count.xlsx"):
        assert desk.url(href) in links
    actions = [form["action"] for form in page.select("form[enctype='multipart/form-data']")]
    assert actions == [desk.url("/import/receipts"), desk.url("/import/count")]
    assert page.find("input", id="receipts-dry_run") and page.find("input", id="count-file")


# ------------------------------------------------------------------------------------------------ exports

def test_the_stock_export_in_csv_lists_the_lots(desk):
    response = desk.client.get(desk.url("/export/stock.csv"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and "DN-XL-01" in disposition and today().isoformat() in disposition
    assert response.data.startswith("\ufeff".encode())  # Excel needs the BOM to read Vietnamese
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert {(r["lot_code"], r["on_hand"], r["available"], r["gtin"]) for r in rows} == {
        ("L-SOON", "6", "6", GTIN), ("L-LATE", "10", "10", GTIN)}
    assert {r["product_name"] for r in rows} == {"Hạt điều rang muối"}


def test_the_stock_export_in_xlsx_has_real_dates_and_numbers(desk):
    response = desk.client.get(desk.url("/export/stock.xlsx"))
    assert response.status_code == 200 and "DN-XL-01" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    lots = {row[header.index("lot_code")]: row for row in rows}
    assert set(lots) == {"L-SOON", "L-LATE"}
    assert lots["L-SOON"][header.index("on_hand")] == 6 and lots["L-LATE"][header.index("available")] == 10
    assert lots["L-SOON"][header.index("expiry_date")].date() == today() + timedelta(days=20)


def test_the_receipts_export_covers_the_chosen_days(desk):
    response = desk.client.get(desk.url("/export/receipts.xlsx"))
    assert response.status_code == 200
    header, *rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert sorted((r[header.index("lot_code")], r[header.index("quantity")]) for r in rows) == [
        ("L-LATE", 10), ("L-SOON", 6)]
    assert {r[header.index("received_by")] for r in rows} == {"xuanloc@example.vn"}
    assert {r[header.index("unit_cost_vnd")] for r in rows} == {80_000}
    earlier = (today() - timedelta(days=40)).isoformat(), (today() - timedelta(days=35)).isoformat()
    old = desk.client.get(desk.url(f"/export/receipts.csv?from={earlier[0]}&to={earlier[1]}"))
    assert old.status_code == 200 and earlier[0] in old.headers["Content-Disposition"]
    assert len(old.data.decode("utf-8-sig").strip().splitlines()) == 1  # the header only


@pytest.mark.parametrize("path", ["/export/sales.csv", "/export/stock.pdf", "/export/stock", "/template/stock.csv",
                                  "/template/receipts.xls"])
def test_unknown_downloads_are_not_found(desk, path):
    assert desk.client.get(desk.url(path)).status_code == 404


def test_bad_dates_for_the_receipts_export_are_refused(desk):
    assert desk.client.get(desk.url("/export/receipts.csv?from=31-12-2026")).status_code == 400
    assert desk.client.get(desk.url("/export/receipts.csv?from=2026-02-01&to=2026-01-01")).status_code == 400


@pytest.mark.parametrize("what, fmt", [("receipts", "csv"), ("count", "xlsx")])
def test_templates_hold_only_the_columns(desk, what, fmt):
    response = desk.client.get(desk.url(f"/template/{what}.{fmt}"))
    assert response.status_code == 200
    expected = {"receipts": RECEIPTS, "count": COUNT}[what].headers
    if fmt == "csv":
        assert response.data.decode("utf-8-sig").splitlines() == [",".join(expected)]
    else:
        assert list(openpyxl.load_workbook(io.BytesIO(response.data)).active.values) == [tuple(expected)]


# ------------------------------------------------------------------------------------------------ imports

def test_a_good_file_is_imported_and_counted_in_the_message(desk):
    desk.client.get("/lang/en")  # the message is written in the language of the request that imported
    before = ledger(desk)
    content = receipts_csv(GOOD_LINE, f"{GTIN},,L-NEW2,{produced()},,3,85000,PGH-500")
    response = upload(desk, "receipts", content)
    assert response.status_code == 303 and response.headers["Location"].endswith(desk.url("/files"))
    assert ledger(desk)[len(before):] == [("receipt", 12, "PGH-500"), ("receipt", 3, "PGH-500")]
    page = desk.client.get(desk.url("/files")).get_data(as_text=True)
    assert "2 rows imported" in page


def test_a_good_xlsx_count_is_imported(desk):
    workbook = openpyxl.Workbook()
    workbook.active.append(COUNT.headers)
    workbook.active.append([int(GTIN), None, "L-SOON", 4])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert upload(desk, "count", buffer.getvalue(), "kiem-ke.xlsx").status_code == 303
    with desk.app.app_context():
        movement = db.session.scalars(sa.select(StockMovement).order_by(StockMovement.id.desc())).first()
        assert (movement.quantity, movement.reason) == (-2, AdjustmentReason.COUNT_CORRECTION)
        assert "kiem-ke.xlsx" in movement.note


def test_a_file_with_a_bad_row_is_refused_with_the_error_table(desk):
    before = ledger(desk)
    content = receipts_csv(GOOD_LINE, f"{GTIN},,L-BAD,{produced()},{produced(10)},2,85000,PGH-500",
                           f"9999999999994,,L-X,{produced()},,2,85000,PGH-500")
    response = upload(desk, "receipts", content)
    assert response.status_code == 400
    assert error_rows(response) == [("3", "expiry_date"), ("4", "gtin")]
    assert_accessible(BeautifulSoup(response.get_data(as_text=True), "html.parser"), "import errors")
    assert ledger(desk) == before  # the good first row is not stored either


def test_a_wrong_header_is_one_error(desk):
    response = upload(desk, "count", b"gtin,lot,so_luong\r\n8934567890120,L-SOON,3\r\n")
    assert response.status_code == 400
    assert [row for row, _ in error_rows(response)] == ["1"]
    assert "counted_quantity" in response.get_data(as_text=True)


@pytest.mark.parametrize("content, filename", [(b"", "empty.csv"), (b"gtin\r\n", "bang-tinh.xls"),
                                               (b"not a zip", "bang-tinh.xlsx")])
def test_an_unreadable_file_is_refused_on_the_file_field(desk, content, filename):
    response = upload(desk, "receipts", content, filename)
    assert response.status_code == 400
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.find(id="receipts-file")["aria-invalid"] == "true" and page.select_one("#receipts-file-error")


def test_an_upload_without_a_file_is_refused(desk):
    token = csrf_token(desk.client, desk.url("/files"))
    response = desk.client.post(desk.url("/import/receipts"), data={"csrf_token": token},
                                content_type="multipart/form-data")
    assert response.status_code == 400
    assert BeautifulSoup(response.get_data(as_text=True), "html.parser").select_one("#receipts-file-error")


def test_a_dry_run_checks_but_stores_nothing(desk):
    desk.client.get("/lang/en")
    before = ledger(desk)
    content = receipts_csv(GOOD_LINE)
    response = upload(desk, "receipts", content, dry_run=True)
    assert response.status_code == 303 and ledger(desk) == before
    page = desk.client.get(desk.url("/files")).get_data(as_text=True)
    assert "Nothing was imported" in page
    bad = upload(desk, "receipts", receipts_csv(f"{GTIN},,L-NEW,{produced()},,0,85000,PGH-500"), dry_run=True)
    assert bad.status_code == 400 and error_rows(bad) == [("2", "quantity")]


def test_an_unknown_import_kind_is_not_found(desk):
    assert upload(desk, "stock", receipts_csv()).status_code == 404


def test_an_upload_over_the_size_limit_is_refused(desk):
    before = ledger(desk)
    desk.app.config["MAX_CONTENT_LENGTH"] = 1024
    content = receipts_csv(*[f"{GTIN},,L-{n},{produced()},,1,85000,PGH-500" for n in range(40)])
    assert upload(desk, "receipts", content).status_code == 413
    assert ledger(desk) == before


# ------------------------------------------------------------------------------------------------ who may

def test_another_points_files_are_refused(desk):
    assert desk.client.get(desk.url("/files", code=desk.other_code)).status_code == 403
    assert desk.client.get(desk.url("/export/stock.csv", code=desk.other_code)).status_code == 403
    content = receipts_csv(GOOD_LINE)
    assert upload(desk, "receipts", content, code=desk.other_code).status_code == 403
    with desk.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StockLevel)
                                 .where(StockLevel.point_id == desk.other_id)) == 0


def test_trade_officers_download_but_do_not_import(desk):
    with desk.app.app_context():
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        db.session.commit()
    desk.client = desk.app.test_client()
    login(desk.client, "officer@example.vn")
    page = desk.client.get(desk.url("/files"))
    assert page.status_code == 200 and b"multipart/form-data" not in page.data
    assert desk.client.get(desk.url("/export/stock.xlsx")).status_code == 200
    before = ledger(desk)
    content = receipts_csv(GOOD_LINE)
    assert upload(desk, "receipts", content).status_code == 403
    assert ledger(desk) == before
