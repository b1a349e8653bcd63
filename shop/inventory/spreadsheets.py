"""Reading and writing the spreadsheets managers exchange with the site: CSV (UTF-8) and XLSX.

Reading gives a header and numbered rows of cleaned cells (text in NFC, empty cells as None, XLSX dates as
`date`), whatever the format, so the importers never look at bytes. Writing makes files that open correctly in
Excel with Vietnamese text: CSV with a BOM, XLSX with real dates and whole-number money."""
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from shop.core.clock import VN_TZ, format_date, format_datetime
from shop.core.tabular import (  # noqa: F401
    EXTENSIONS,
    MAX_FILE_BYTES,
    Cell,
    read_rows,
    refuse,
    safe_cell,
    workbook_bytes,
)

# Data rows, header not counted. Each row goes through a stock service (about 6 ms on SQLite), and a larger
# file would outlast a web worker's timeout.
MAX_ROWS = 2_000


@dataclass(frozen=True)
class Table:
    """A sheet as read: the header cells and the data rows, each with the row number the user sees in Excel
    (the header is usually row 1). Completely empty rows are left out but keep their numbers counted."""

    header: list[str]
    rows: list[tuple[int, list[Cell]]]
    header_row: int = 1


# ------------------------------------------------------------------------------------------------- reading

def read_table(content: bytes, filename: str) -> Table:
    """The first sheet of an uploaded .csv or .xlsx file. Raises DomainError (field "file") for an unknown
    extension, a file too large, unreadable or empty, or one with more than MAX_ROWS rows."""
    header: list[str] | None = None
    header_row = 1
    rows: list[tuple[int, list[Cell]]] = []
    for number, cells in enumerate(read_rows(content, filename), start=1):
        if header is None:
            if not cells:
                continue  # blank lines above the header
            header, header_row = [str(cell or "") for cell in cells], number
            continue
        if cells:
            rows.append((number, cells))
            if len(rows) > MAX_ROWS:
                raise refuse(_l("The file has more than %(n)s rows. Split it into smaller files.", n=MAX_ROWS),
                             "too_many_rows")
    if header is None:
        raise refuse(_l("The file is empty."), "empty_file")
    return Table(header=header, rows=rows, header_row=header_row)


# ------------------------------------------------------------------------------------------------- writing

def _csv_cell(value) -> str | int:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    return safe_cell(value)  # text from producers must never run as a formula in the manager's Excel


def write_csv(headers: list[str], rows) -> bytes:
    """UTF-8 with a BOM (without it Excel reads Vietnamese as mojibake), dates as dd/mm/yyyy."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows([_csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
MONEY_FORMAT = "#,##0"  # columns whose header ends in "_vnd": whole đồng
MAX_WIDTH = 50


def write_xlsx(headers: list[str], rows, title: str) -> bytes:
    """One sheet: a bold, frozen header, widths fitted to the content, dates as real dates (local time for
    moments) and money as whole numbers."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(title)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    money = {index for index, name in enumerate(headers) if name.endswith("_vnd")}
    widths = [len(name) for name in headers]
    for row_number, row in enumerate(rows, start=2):
        for index, value in enumerate(row):
            cell = sheet.cell(row=row_number, column=index + 1)
            _set_xlsx_value(cell, value, money=index in money)
            widths[index] = max(widths[index], len(str(_csv_cell(value))))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, MAX_WIDTH)
    return workbook_bytes(workbook)


def _set_xlsx_value(cell, value, *, money: bool) -> None:
    if isinstance(value, datetime):
        # XLSX has no time zones: write the moment as the clock in Vietnam showed it.
        cell.value = value.astimezone(VN_TZ).replace(tzinfo=None)
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    elif isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # never a formula, whatever the text starts with
    else:
        cell.value = value
        if money and isinstance(value, int):
            cell.number_format = MONEY_FORMAT


def _sheet_title(title: str) -> str:
    """Excel refuses titles over 31 characters or with []:*?/\\ in them."""
    cleaned = "".join("-" if char in "[]:*?/\\" else char for char in title).strip() or "Sheet"
    return cleaned[:31]
