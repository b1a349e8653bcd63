"""Reading uploaded spreadsheets (CSV in UTF-8, XLSX) into plain rows of cleaned cells, for every importer, and
the one rule of every exporter: no cell is ever a formula.

Cells come back as text in NFC without surrounding spaces (empty as None), numbers as numbers and XLSX dates as
`date`. Refusals are DomainErrors on the field "file" with a stable code; each importer then finds its header
and checks its own columns."""
import csv
import io
import unicodedata
import warnings
import zipfile
from datetime import date, datetime
from pathlib import PurePath

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from shop.core.errors import DomainError

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_COLUMNS = 30            # our layouts have fewer than 15 columns; more means a wrong file
MAX_XLSX_UNPACKED = 50 * 1024 * 1024  # a small XLSX may unzip to gigabytes (a "zip bomb")
EXTENSIONS = ("csv", "xlsx")
DELIMITERS = (",", ";", "\t")
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")

Cell = str | int | float | date | None

# Text starting so is run as a formula by spreadsheet programs ("CSV injection"): a point or product named
# "=HYPERLINK(…)" must stay a name in the department's or the manager's Excel.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A value for a CSV cell: text that would run as a formula gets a leading apostrophe (OWASP's advice; Excel
    and LibreOffice then show it as text). Other values are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def workbook_bytes(workbook) -> bytes:
    """The XLSX file of an openpyxl workbook, every text cell written as text: openpyxl makes a string starting
    with "=" a formula, and our exports never hold one. Every XLSX writer saves through here."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def refuse(message, code: str) -> DomainError:
    return DomainError(str(message), field="file", code=code)


def read_rows(content: bytes, filename: str) -> list[list[Cell]]:
    """Every row of the first sheet of an uploaded .csv or .xlsx file, cleaned, trailing empty cells dropped
    (empty rows stay, as [], so row numbers match what the user sees). Raises for an unknown extension, a file
    too large, empty or unreadable."""
    extension = PurePath(filename or "").suffix.lower().lstrip(".")
    if extension not in EXTENSIONS:
        raise refuse(_l("Upload a .csv or .xlsx file (in Excel: File › Save as › CSV UTF-8 or Excel Workbook)."),
                     "unknown_file_type")
    if len(content) > MAX_FILE_BYTES:
        raise refuse(_l("The file is larger than %(mb)s MB.", mb=MAX_FILE_BYTES // (1024 * 1024)), "file_too_large")
    if not content.strip():
        raise refuse(_l("The file is empty."), "empty_file")
    raw_rows = _csv_rows(content) if extension == "csv" else _xlsx_rows(content)
    rows = []
    for raw in raw_rows:
        cells = [clean_cell(value) for value in list(raw)[:MAX_COLUMNS]]
        while cells and cells[-1] is None:
            cells.pop()
        rows.append(cells)
    return rows


def clean_cell(value) -> Cell:
    """Text in NFC without surrounding spaces, empty as None; XLSX datetimes as dates (sheets have no times)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        value = unicodedata.normalize("NFC", value).strip()
        return value or None
    return value


def parse_day(value: Cell) -> date | None:
    """A date cell, or text as dd/mm/yyyy (also yyyy-mm-dd, dd-mm-yyyy, dd.mm.yyyy); None when it is neither."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(str(value).strip(), pattern).date()
        except ValueError:
            continue
    return None


def _csv_rows(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")  # Excel writes a BOM in "CSV UTF-8"; other tools do not
    except UnicodeDecodeError:
        raise refuse(_l("The CSV file is not UTF-8 text. In Excel choose File › Save as › CSV UTF-8."),
                     "not_utf8") from None
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    # Headers hold no separators, so the one the header line uses most is the file's (Excel set to
    # Vietnamese or European settings writes ';').
    delimiter = max(DELIMITERS, key=first_line.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise refuse(_l("The CSV file could not be read: %(error)s", error=str(error)), "unreadable_file") from None


def _xlsx_rows(content: bytes) -> list[tuple]:
    buffer = io.BytesIO(content)
    unreadable = refuse(_l("The file is not a valid .xlsx workbook. Open it in Excel and save it again."),
                        "unreadable_file")
    try:
        with zipfile.ZipFile(buffer) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise unreadable from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise refuse(_l("The workbook is too large once unpacked."), "file_too_large")
    try:
        with warnings.catch_warnings():
            # Files from other programs make openpyxl warn about styles and extensions it ignores anyway.
            warnings.simplefilter("ignore")
            workbook = load_workbook(buffer, read_only=True, data_only=True)
            try:
                return list(workbook.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True))
            finally:
                workbook.close()
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds of error for a damaged workbook
        raise unreadable from None
