"""Reading and writing the spreadsheets managers exchange with the site: CSV (UTF-8) and XLSX.

Reading gives a header and numbered rows of cleaned cells (text in NFC, empty cells as None, XLSX dates as
`date`), whatever the format, so the importers never look at bytes. Writing makes files that open correctly in
Excel with Vietnamese text: CSV with a BOM, XLSX with real dates and whole-number money."""
import csv
import io
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from shop.core.clock import VN_TZ, format_date, format_datetime
from shop.core.errors import DomainError

MAX_FILE_BYTES = 5 * 1024 * 1024
# Data rows, header not counted. Each row goes through a stock service (about 6 ms on SQLite), and a larger
# file would outlast a web worker's timeout.
MAX_ROWS = 2_000
MAX_COLUMNS = 30            # our layouts have fewer than 15 columns; more means a wrong file
MAX_XLSX_UNPACKED = 50 * 1024 * 1024  # a small XLSX may unzip to gigabytes (a "zip bomb")
EXTENSIONS = ("csv", "xlsx")
DELIMITERS = (",", ";", "\t")
FORMULA_STARTS = ("=", "+", "-", "@")  # a cell starting so is run as a formula by spreadsheet programs

Cell = str | int | float | date | None


@dataclass(frozen=True)
class Table:
    """A sheet as read: the header cells and the data rows, each with the row number the user sees in Excel
    (the header is usually row 1). Completely empty rows are left out but keep their numbers counted."""

    header: list[str]
    rows: list[tuple[int, list[Cell]]]
    header_row: int = 1


def _refuse(message, code: str) -> DomainError:
    return DomainError(str(message), field="file", code=code)


# ------------------------------------------------------------------------------------------------- reading

def read_table(content: bytes, filename: str) -> Table:
    """The first sheet of an uploaded .csv or .xlsx file. Raises DomainError (field "file") for an unknown
    extension, a file too large, unreadable or empty, or one with more than MAX_ROWS rows."""
    extension = PurePath(filename or "").suffix.lower().lstrip(".")
    if extension not in EXTENSIONS:
        raise _refuse(_l("Upload a .csv or .xlsx file (in Excel: File › Save as › CSV UTF-8 or Excel Workbook)."),
                      "unknown_file_type")
    if len(content) > MAX_FILE_BYTES:
        raise _refuse(_l("The file is larger than %(mb)s MB.", mb=MAX_FILE_BYTES // (1024 * 1024)), "file_too_large")
    if not content.strip():
        raise _refuse(_l("The file is empty."), "empty_file")
    return _table(_csv_rows(content)) if extension == "csv" else _xlsx_table(content)


def _table(raw_rows) -> Table:
    header: list[str] | None = None
    header_row = 1
    rows: list[tuple[int, list[Cell]]] = []
    for number, raw in enumerate(raw_rows, start=1):
        cells = [_clean(value) for value in raw[:MAX_COLUMNS]]
        while cells and cells[-1] is None:
            cells.pop()
        if header is None:
            if not cells:
                continue  # blank lines above the header
            header, header_row = [str(cell or "") for cell in cells], number
            continue
        if cells:
            rows.append((number, cells))
            if len(rows) > MAX_ROWS:
                raise _refuse(_l("The file has more than %(n)s rows. Split it into smaller files.", n=MAX_ROWS),
                              "too_many_rows")
    if header is None:
        raise _refuse(_l("The file is empty."), "empty_file")
    return Table(header=header, rows=rows, header_row=header_row)


def _clean(value) -> Cell:
    """Text in NFC without surrounding spaces, empty as None; XLSX datetimes as dates (sheets have no times)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        value = unicodedata.normalize("NFC", value).strip()
        return value or None
    return value


def _csv_rows(content: bytes):
    try:
        text = content.decode("utf-8-sig")  # Excel writes a BOM in "CSV UTF-8"; other tools do not
    except UnicodeDecodeError:
        raise _refuse(_l("The CSV file is not UTF-8 text. In Excel choose File › Save as › CSV UTF-8."),
                      "not_utf8") from None
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    # Our headers hold no separators, so the one the header line uses most is the file's (Excel set to
    # Vietnamese or European settings writes ';').
    delimiter = max(DELIMITERS, key=first_line.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise _refuse(_l("The CSV file could not be read: %(error)s", error=str(error)), "unreadable_file") from None


def _xlsx_table(content: bytes) -> Table:
    buffer = io.BytesIO(content)
    unreadable = _refuse(_l("The file is not a valid .xlsx workbook. Open it in Excel and save it again."),
                         "unreadable_file")
    try:
        with zipfile.ZipFile(buffer) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise unreadable from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise _refuse(_l("The workbook is too large once unpacked."), "file_too_large")
    try:
        with warnings.catch_warnings():
            # Files from other programs make openpyxl warn about styles and extensions it ignores anyway.
            warnings.simplefilter("ignore")
            workbook = load_workbook(buffer, read_only=True, data_only=True)
            try:
                return _table(workbook.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True))
            finally:
                workbook.close()
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds of error for a damaged workbook
        raise unreadable from None


# ------------------------------------------------------------------------------------------------- writing

def _csv_cell(value) -> str | int:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # text from producers must never run as a formula in the manager's Excel
    return value


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
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


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
