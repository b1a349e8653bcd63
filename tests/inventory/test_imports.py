"""Imports of receipts and stock counts from CSV and XLSX: every row checked, errors reported per row and column,
and nothing stored unless every row is right. Exports: what the spreadsheets contain."""
import io
import unicodedata
from datetime import date, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from shop.core import tabular
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.extensions import db
from shop.inventory import spreadsheets
from shop.inventory.imports import (
    COUNT,
    RECEIPT_HEADERS,
    RECEIPTS,
    STOCK_HEADERS,
    import_count,
    import_receipts,
    parse_whole_number,
    receipt_rows,
    stock_rows,
)
from shop.inventory.models import AdjustmentReason, Lot, MovementKind, StockLevel, StockMovement
from shop.inventory.spreadsheets import read_table, write_csv, write_xlsx
from tests.factories import make_point, make_product, recall_lot
from tests.inventory.conftest import receive

CASHEW, COFFEE = "8934567890137", "8934567890144"
HEADER = ",".join(RECEIPTS.headers)


def day(days_ago: int) -> str:
    return (today() - timedelta(days=days_ago)).strftime("%d/%m/%Y")


def iso(days_from_now: int) -> str:
    return (today() + timedelta(days=days_from_now)).isoformat()


@pytest.fixture
def shop(app_ctx, point, manager):
    """Two certified products with barcodes, one without (found by slug), and a first receipt at the point."""
    cashew = make_product(name="Hạt điều rang muối", gtin=CASHEW)
    coffee = make_product(name="Cà phê Robusta", gtin=COFFEE)
    honey = make_product(name="Mật ong hoa cà phê")
    receive(point, cashew, manager, lot_code="OLD-1", quantity=10)
    db.session.commit()
    return {"cashew": cashew, "coffee": coffee, "honey": honey}


def good_rows(shop) -> list[str]:
    return [f"{CASHEW},,L-01,{day(5)},{iso(200)},24,80000,PGH-101",
            f"{COFFEE},,R-7,{iso(-30)},,12,\"150.000\",PGH-101",
            f",{shop['honey'].slug},MO-3,{day(2)},{day(-365)},6,90000 ₫,PGH-102"]


def csv_table(*lines: str, header: str = HEADER, bom: bool = False, delimiter: str = ",") -> spreadsheets.Table:
    text = "\r\n".join([header, *lines]).replace(",", delimiter)
    return read_table(text.encode("utf-8-sig" if bom else "utf-8"), "phieu-nhap.csv")


def xlsx_bytes(header: list, rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(header)
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def movement_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement))


def receipts() -> list[StockMovement]:
    return list(db.session.scalars(sa.select(StockMovement).where(StockMovement.kind == MovementKind.RECEIPT,
                                                                  StockMovement.lot.has(Lot.lot_code != "OLD-1"))
                                   .order_by(StockMovement.id)))


# ------------------------------------------------------------------------------------------------ receipts

def test_a_good_csv_records_one_receipt_per_row(shop, point, manager):
    result = import_receipts(point, csv_table(*good_rows(shop)), manager)
    assert result.ok and result.rows == 3
    db.session.commit()
    rows = receipts()
    assert [(m.lot.lot_code, m.quantity, m.unit_cost_vnd, m.reference) for m in rows] == [
        ("L-01", 24, 80_000, "PGH-101"), ("R-7", 12, 150_000, "PGH-101"), ("MO-3", 6, 90_000, "PGH-102")]
    assert {m.actor_id for m in rows} == {manager.id} and {m.point_id for m in rows} == {point.id}
    assert [m.product_id for m in rows] == [shop["cashew"].id, shop["coffee"].id, shop["honey"].id]
    assert rows[0].lot.production_date == today() - timedelta(days=5)
    assert rows[0].lot.expiry_date == today() + timedelta(days=200) and rows[1].lot.expiry_date is None


def test_a_good_xlsx_records_the_same_receipts(shop, point, manager):
    produced, expires = today() - timedelta(days=5), today() + timedelta(days=200)
    content = xlsx_bytes(RECEIPTS.headers, [
        [int(CASHEW), None, "L-01", produced, expires, 24, 80000, "PGH-101"],  # a barcode typed as a number
        [None, shop["honey"].slug, 3001, produced.strftime("%d/%m/%Y"), None, 6.0, 90000, "PGH-102"],
    ])
    result = import_receipts(point, read_table(content, "nhap-hang.xlsx"), manager)
    assert result.ok and result.rows == 2
    db.session.commit()
    assert [(m.product_id, m.lot.lot_code, m.quantity, m.reference, m.actor_id) for m in receipts()] == [
        (shop["cashew"].id, "L-01", 24, "PGH-101", manager.id), (shop["honey"].id, "3001", 6, "PGH-102", manager.id)]
    assert receipts()[0].lot.production_date == produced and receipts()[0].lot.expiry_date == expires


def test_a_wrong_header_gives_one_error_and_stores_nothing(shop, point, manager):
    before = movement_count()
    wrong = "gtin,product_slug,lot,production_date,expiry_date,qty,unit_cost_vnd,delivery_note"
    result = import_receipts(point, csv_table(*good_rows(shop), header=wrong), manager)
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.row == 1 and error.column is None
    assert "lot_code" in error.message and "quantity" in error.message
    db.session.rollback()
    assert movement_count() == before


def test_columns_may_come_in_any_order_and_extra_columns_are_ignored(shop, point, manager):
    header = "ghi_chu,quantity,lot_code,gtin,product_slug,delivery_note,unit_cost_vnd,expiry_date,production_date"
    result = import_receipts(point, csv_table(f"hàng đẹp,5,L-9,{CASHEW},,PGH-9,1000,,{day(1)}", header=header),
                             manager)
    assert result.ok
    assert [(m.lot.lot_code, m.quantity) for m in receipts()] == [("L-9", 5)]


BAD_ROWS = {
    "bad date": (f"{COFFEE},,R-8,31/02/2026,,5,1000,PGH-1", "production_date"),
    "zero quantity": (f"{COFFEE},,R-8,{day(3)},,0,1000,PGH-1", "quantity"),
    "unknown GTIN": (f"8934567890151,,R-8,{day(3)},,5,1000,PGH-1", "gtin"),
    "expiry before production": (f"{COFFEE},,R-8,{day(3)},{day(10)},5,1000,PGH-1", "expiry_date"),
    "non-numeric quantity": (f"{COFFEE},,R-8,{day(3)},,năm,1000,PGH-1", "quantity"),
    "missing delivery note": (f"{COFFEE},,R-8,{day(3)},,5,1000,", "delivery_note"),
    "unknown slug": (f",khong-co-san-pham,R-8,{day(3)},,5,1000,PGH-1", "product_slug"),
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_one_bad_row_among_good_ones_is_reported_and_nothing_is_stored(shop, point, manager, case):
    line, column = BAD_ROWS[case]
    first, second, third = good_rows(shop)
    before = movement_count(), db.session.scalar(sa.select(StockLevel.on_hand).where(StockLevel.point_id == point.id))
    result = import_receipts(point, csv_table(first, second, line, third), manager)
    assert [(e.row, e.column) for e in result.errors] == [(4, column)]  # the header is row 1
    assert result.errors[0].message and result.rows == 4
    db.session.rollback()  # what the caller does when there is an error
    assert (movement_count(), db.session.scalar(
        sa.select(StockLevel.on_hand).where(StockLevel.point_id == point.id))) == before
    assert receipts() == [] and db.session.scalar(sa.select(sa.func.count()).select_from(Lot)) == 1


def test_every_problem_of_every_row_is_reported_at_once(shop, point, manager):
    result = import_receipts(point, csv_table(f"{CASHEW},,,hôm qua,,-2,abc,PGH-1", *good_rows(shop),
                                              f"{COFFEE},,R-1,{day(1)},,0,1000,PGH-1"), manager)
    # Row 2's cells are checked together (its quantity would be refused by the service, which it never reaches).
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "lot_code"), (2, "production_date"), (2, "unit_cost_vnd"), (6, "quantity")]


def test_a_product_without_a_qualifying_basis_is_refused_with_the_reason(shop, point, manager):
    make_product(name="Bánh pía", gtin="8934567890151", stars=None)
    db.session.commit()
    result = import_receipts(point, csv_table(f"8934567890151,,B-1,{day(1)},,5,1000,PGH-1"), manager)
    [error] = result.errors
    assert (error.row, error.column) == (2, "gtin") and "OCOP" in error.message


def test_a_header_without_rows_is_an_error(shop, point, manager):
    result = import_receipts(point, csv_table(), manager)
    assert len(result.errors) == 1 and result.rows == 0


def test_a_csv_with_a_bom_and_semicolons_is_read(shop, point, manager):
    line = f"{CASHEW};;L-01;{day(5)};;24;80.000;PGH-101"
    table = csv_table(line, header=HEADER.replace(",", ";"), bom=True, delimiter=";")
    assert table.header == RECEIPTS.headers  # no BOM glued to "gtin"
    assert import_receipts(point, table, manager).ok
    assert [(m.quantity, m.unit_cost_vnd) for m in receipts()] == [(24, 80_000)]


def test_vietnamese_text_in_nfd_is_stored_in_nfc(shop, point, manager):
    note = unicodedata.normalize("NFD", "PGH-Đồng-Nai")
    lot = unicodedata.normalize("NFD", "Lô-Điều-1")
    assert note != "PGH-Đồng-Nai"
    table = csv_table(f"{CASHEW},,{lot},{day(5)},,2,1000,{note}")
    assert table.rows[0][1][2] == "Lô-Điều-1"
    assert import_receipts(point, table, manager).ok
    [movement] = receipts()
    assert (movement.reference, movement.lot.lot_code) == ("PGH-Đồng-Nai", "Lô-Điều-1")


def test_a_lot_received_again_with_other_dates_is_refused_on_its_row(shop, point, manager):
    result = import_receipts(point, csv_table(f"{CASHEW},,OLD-1,{day(1)},,2,1000,PGH-1"), manager)
    assert [(e.row, e.column) for e in result.errors] == [(2, "lot_code")]


# ------------------------------------------------------------------------------------------------ counts

def count_table(*lines: str) -> spreadsheets.Table:
    return csv_table(*lines, header=",".join(COUNT.headers))


def test_a_count_import_writes_count_corrections(shop, point, manager):
    receive(point, shop["coffee"], manager, lot_code="R-1", quantity=5)
    db.session.commit()
    result = import_count(point, count_table(f"{CASHEW},,OLD-1,7", f",{shop['coffee'].slug},R-1,5"), manager,
                          note="Kiểm kê tháng 11")
    assert result.ok and result.rows == 2
    db.session.commit()
    [correction] = db.session.scalars(sa.select(StockMovement).where(StockMovement.kind == MovementKind.ADJUSTMENT))
    assert (correction.quantity, correction.reason, correction.actor_id) == (-3, AdjustmentReason.COUNT_CORRECTION,
                                                                            manager.id)
    assert correction.note == "Kiểm kê tháng 11"
    levels = dict(db.session.execute(sa.select(StockLevel.lot_id, StockLevel.on_hand)).all())
    assert sorted(levels.values()) == [5, 7]


def test_a_count_with_an_unknown_lot_or_a_lot_counted_twice_stores_nothing(shop, point, manager):
    before = movement_count()
    result = import_count(point, count_table(f"{CASHEW},,OLD-1,7", f"{CASHEW},,NOPE,1", f"{CASHEW},,OLD-1,8",
                                             f"{CASHEW},,OLD-1,-1"), manager)
    assert [(e.row, e.column) for e in result.errors] == [(3, "lot_code"), (4, "lot_code"), (5, "lot_code")]
    db.session.rollback()
    assert movement_count() == before
    assert db.session.scalar(sa.select(StockLevel.on_hand)) == 10


def test_a_negative_count_is_reported_on_the_counted_quantity(shop, point, manager):
    result = import_count(point, count_table(f"{CASHEW},,OLD-1,-1"), manager)
    assert [(e.row, e.column) for e in result.errors] == [(2, "counted_quantity")]


# ------------------------------------------------------------------------------------------------ reading files

@pytest.mark.parametrize("content, name, code", [
    (b"gtin\n1\n", "stock.xls", "unknown_file_type"),
    (b"gtin\n1\n", "stock", "unknown_file_type"),
    (b"", "stock.csv", "empty_file"),
    (b"\r\n\r\n", "stock.csv", "empty_file"),
    ("gtin,lot_code\nLô 1,x\n".encode("cp1258"), "stock.csv", "not_utf8"),
    (b"PK\x03\x04 not really a workbook", "stock.xlsx", "unreadable_file"),
    (b"gtin,lot_code\n", "stock.xlsx", "unreadable_file"),
])
def test_files_that_cannot_be_read_are_refused_clearly(app_ctx, content, name, code):
    with pytest.raises(DomainError) as error:
        read_table(content, name)
    assert (error.value.code, error.value.field) == (code, "file") and error.value.message


def test_too_many_rows_or_bytes_are_refused(app_ctx, monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 3)
    with pytest.raises(DomainError, match="3"):
        read_table(b"a\n1\n2\n3\n4\n", "a.csv")
    with pytest.raises(DomainError, match="3"):
        read_table(xlsx_bytes(["a"], [[1], [2], [3], [4]]), "a.xlsx")
    assert len(read_table(b"a\n1\n\n2\n3\n", "a.csv").rows) == 3  # empty rows do not count
    monkeypatch.setattr(tabular, "MAX_FILE_BYTES", 10)
    with pytest.raises(DomainError) as error:
        read_table(b"a\n" + b"1\n" * 10, "a.csv")
    assert error.value.code == "file_too_large"


def test_rows_keep_the_numbers_the_user_sees(app_ctx):
    table = read_table(b"a,b\n1,2\n,\n3,\n", "a.csv")
    assert table.rows == [(2, ["1", "2"]), (4, ["3"])]


@pytest.mark.parametrize("text, expected", [
    ("80000", 80000), ("80.000", 80000), ("80,000", 80000), ("1.250.000 ₫", 1250000), ("90000đ", 90000),
    ("-3", -3), (12, 12), (12.0, 12), ("1,5", None), ("12.5", None), (2.5, None), ("abc", None), ("1.00.000", None),
])
def test_whole_numbers_are_read_as_people_write_them(text, expected):
    assert parse_whole_number(text) == expected


# ------------------------------------------------------------------------------------------------ exports

def test_the_stock_export_lists_each_lot_with_what_may_be_sold(shop, point, manager):
    receive(point, shop["coffee"], manager, lot_code="R-1", quantity=4)
    recall_lot(db.session.scalar(sa.select(Lot).where(Lot.lot_code == "R-1")), reason="Nấm mốc")
    receive(point, shop["coffee"], manager, lot_code="R-2", quantity=3)
    rows = {row[3]: dict(zip(STOCK_HEADERS, row, strict=True)) for row in stock_rows(point)}
    assert set(rows) == {"OLD-1", "R-2"}  # the recalled lot left the shelf
    assert rows["OLD-1"]["gtin"] == CASHEW and rows["OLD-1"]["product_name"] == "Hạt điều rang muối"
    assert (rows["OLD-1"]["on_hand"], rows["OLD-1"]["available"], rows["OLD-1"]["status"]) == (10, 10, "sellable")
    assert isinstance(rows["R-2"]["production_date"], date)


def test_the_receipt_export_covers_the_chosen_days(shop, point, manager):
    receive(point, shop["coffee"], manager, lot_code="R-1", quantity=4, unit_cost_vnd=150_000, delivery_note="PGH-7")
    rows = [dict(zip(RECEIPT_HEADERS, row, strict=True)) for row in receipt_rows(point, today(), today())]
    assert [(r["lot_code"], r["quantity"], r["delivery_note"]) for r in rows] == [("OLD-1", 10, "PGH-001"),
                                                                                  ("R-1", 4, "PGH-7")]
    assert rows[1]["total_cost_vnd"] == 600_000 and rows[1]["received_by"] == manager.email
    assert receipt_rows(point, today() - timedelta(days=9), today() - timedelta(days=1)) == []
    assert receipt_rows(make_point("DN-BH-01"), today(), today()) == []


def test_a_receipt_export_can_be_imported_at_another_point(shop, point, manager):
    other = make_point("DN-BH-01")
    content = write_csv(RECEIPT_HEADERS, receipt_rows(point, today(), today()))
    assert import_receipts(other, read_table(content, "x.csv"), manager).ok
    assert db.session.scalar(sa.select(StockLevel.on_hand).where(StockLevel.point_id == other.id)) == 10


def test_written_files_read_back_with_dates_numbers_and_vietnamese(app_ctx):
    produced = date(2026, 1, 31)
    rows = [["Cà phê", produced, 150_000, "=HYPERLINK(\"http://evil\")", None]]
    headers = ["name", "production_date", "unit_cost_vnd", "note", "empty"]
    csv_bytes = write_csv(headers, rows)
    assert csv_bytes.startswith("\ufeff".encode())
    assert read_table(csv_bytes, "a.csv").rows == [(2, ["Cà phê", "31/01/2026", "150000", "'=HYPERLINK(\"http://evil\")"])]
    workbook = openpyxl.load_workbook(io.BytesIO(write_xlsx(headers, rows, "Tồn kho: DN/XL")))
    sheet = workbook.active
    assert sheet.title == "Tồn kho- DN-XL" and sheet["A1"].font.bold
    assert sheet["B2"].value.date() == produced and sheet["B2"].number_format == "DD/MM/YYYY"
    assert sheet["C2"].value == 150_000 and sheet["C2"].number_format == "#,##0"
    assert sheet["D2"].data_type == "s"  # text, never a formula
    assert read_table(write_xlsx(headers, rows, "x"), "a.xlsx").rows[0][1][:3] == ["Cà phê", produced, 150_000]


def test_a_barcode_written_with_spaces_or_without_its_leading_zero_is_found(shop, point, manager):
    short = make_product(name="Rượu sim", gtin="0001234567895")
    db.session.commit()
    result = import_receipts(point, csv_table(f"893 4567 89013 7,,S-1,{day(2)},,1,1000,PGH-1",
                                              f"1234567895,,S-2,{day(2)},,1,1000,PGH-1"), manager)
    assert result.ok
    assert [m.product_id for m in receipts()] == [shop["cashew"].id, short.id]


def test_a_wrong_header_below_blank_lines_is_reported_on_its_own_row(shop, point, manager):
    result = import_receipts(point, read_table(b"\r\n,,\r\ngtin,lot\r\n1,2\r\n", "a.csv"), manager)
    assert [(e.row, e.column) for e in result.errors] == [(3, None)]
