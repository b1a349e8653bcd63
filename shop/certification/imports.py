"""Bulk import of OCOP certificates from the lists provinces publish (XLSX or CSV, one row per product).

Three steps, each a plain function: `read_sheet` turns the upload into a header and numbered rows;
`preview_import` checks every row and matches producers and products (registration number, then name, without
diacritics) with a handful of batched queries, writing nothing; `commit_import` records the certificates (and the
producers and products the file introduces) through the services, only when the preview has no error at all.
It flushes; the caller commits (or rolls back on a dry run)."""
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font

from shop.catalog.groups import GROUPS, SUBGROUPS, group_of
from shop.catalog.models import Product
from shop.catalog.services import create_product
from shop.certification.models import STAR_BANDS, Certificate, IssuingLevel
from shop.certification.services import record_certificate
from shop.core import admin_units
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.core.tabular import (  # noqa: F401
    EXTENSIONS,
    MAX_FILE_BYTES,
    Cell,
    parse_day,
    read_rows,
    refuse,
    safe_cell,
    workbook_bytes,
)
from shop.core.text import fold
from shop.extensions import db
from shop.producers.models import LegalForm, Producer
from shop.producers.services import create_producer

MAX_ROWS = 5_000
HEADER_SEARCH_ROWS = 10   # provincial lists often start with a title and the decision's reference
CHUNK = 500               # ids per IN (...) list



# ------------------------------------------------------------------------------------------------ layout

@dataclass(frozen=True)
class Column:
    key: str
    header: str            # the Vietnamese header of the template
    aliases: tuple[str, ...]  # other accepted headers, folded (no diacritics, lower case)
    required: bool = True  # the header must be there (a cell may still be empty where the column allows it)
    example: Cell = None


COLUMNS = (
    Column("stt", "STT", ("stt", "tt", "no", "no.", "#"), required=False, example=1),
    Column("product", "Tên sản phẩm", ("ten san pham", "san pham", "product", "product name"),
           example="Hạt điều rang muối"),
    Column("producer", "Chủ thể", ("chu the", "chu the san xuat", "ten chu the", "producer"),
           example="HTX Nông nghiệp Phú Hòa"),
    Column("legal_form", "Loại hình", ("loai hinh", "loai hinh chu the", "legal form"), example="Hợp tác xã"),
    Column("group", "Nhóm", ("nhom", "nhom san pham", "group", "product group"), example="Thực phẩm"),
    Column("locality", "Xã/phường hoặc Huyện", (
        "xa/phuong hoac huyen", "xa/phuong", "xa, phuong", "xa phuong", "xa", "phuong", "huyen", "dia phuong",
        "dia ban", "xa/phuong/huyen", "huyen/thanh pho", "commune", "district", "commune or district", "locality"),
           example="Phú Hòa"),
    Column("stars", "Số sao", ("so sao", "hang sao", "xep hang", "stars"), example=3),
    Column("score", "Điểm", ("diem", "diem so", "tong diem", "score"), example=65),
    Column("decision_no", "Số quyết định", ("so quyet dinh", "so qd", "quyet dinh", "decision number",
                                            "decision no", "decision no."), example="1234/QĐ-UBND"),
    Column("decision_date", "Ngày quyết định", ("ngay quyet dinh", "ngay qd", "ngay cong nhan", "decision date"),
           example="15/06/2024"),
    Column("level", "Cấp", ("cap", "cap cong nhan", "cap danh gia", "level"), example="tỉnh"),
    Column("registration_no", "Mã số đăng ký", ("ma so dang ky", "ma so dang ky kinh doanh", "ma so doanh nghiep",
                                                "ma so thue", "registration number", "registration no",
                                                "registration no."), required=False, example=""),
)
IGNORED_HEADERS = ("ghi chu", "note", "notes")  # accepted and ignored
BY_KEY = {column.key: column for column in COLUMNS}


def _header_key(text: str) -> str:
    """A header as compared: folded, spaces collapsed, trailing ':' and '(*)' marks dropped."""
    folded = re.sub(r"\s+", " ", fold(str(text or ""))).strip()
    folded = re.sub(r"\s*\(\*\)\s*$|\s*\*\s*$|\s*:\s*$", "", folded)
    return re.sub(r"\s*/\s*", "/", folded)


_HEADER_INDEX = {}
for _column in COLUMNS:
    for _name in (_column.header, *_column.aliases):
        _HEADER_INDEX[_header_key(_name)] = _column.key


# ------------------------------------------------------------------------------------------------ reading

@dataclass(frozen=True)
class Sheet:
    header: list[str]
    rows: list[tuple[int, list[Cell]]]   # (row number as the user sees it, cells)
    header_row: int = 1


def read_sheet(content: bytes, filename: str) -> Sheet:
    """The first sheet of a .csv (UTF-8, with or without BOM; ',' ';' or tab) or .xlsx file. The header is the
    first of the top rows that names at least three known columns (else the first non-empty row)."""
    return _sheet(read_rows(content, filename))


def _sheet(raw_rows) -> Sheet:
    numbered = []
    for number, cells in enumerate(raw_rows, start=1):
        if cells:
            numbered.append((number, cells))
        if len(numbered) > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise refuse(_l("The file has more than %(n)s rows. Split it into smaller files.", n=MAX_ROWS),
                          "too_many_rows")
    if not numbered:
        raise refuse(_l("The file is empty."), "empty_file")
    header_at = 0
    for index, (_number, cells) in enumerate(numbered[:HEADER_SEARCH_ROWS]):
        if sum(1 for cell in cells if _header_key(str(cell or "")) in _HEADER_INDEX) >= 3:
            header_at = index
            break
    header_row, header_cells = numbered[header_at]
    rows = numbered[header_at + 1:]
    if len(rows) > MAX_ROWS:
        raise refuse(_l("The file has more than %(n)s rows. Split it into smaller files.", n=MAX_ROWS),
                      "too_many_rows")
    return Sheet(header=["" if cell is None else str(cell) for cell in header_cells], rows=rows,
                 header_row=header_row)


# ------------------------------------------------------------------------------------------------ template

def template_rows() -> tuple[list[str], list[list[Cell]]]:
    return [column.header for column in COLUMNS], [[column.example for column in COLUMNS]]


def template_csv() -> bytes:
    headers, rows = template_rows()
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(["" if value is None else safe_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")  # the BOM: Excel reads Vietnamese correctly


def template_xlsx() -> bytes:
    headers, rows = template_rows()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "OCOP"
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in rows:
        values = []
        for column, value in zip(COLUMNS, row, strict=True):
            if column.key == "decision_date" and isinstance(value, str):
                value = datetime.strptime(value, "%d/%m/%Y").date()
            values.append(value)
        sheet.append(values)
    for cell in sheet[2]:
        if isinstance(cell.value, date):
            cell.number_format = "DD/MM/YYYY"
        elif isinstance(cell.value, str):
            cell.data_type = "s"
    for index, header in enumerate(headers):
        sheet.column_dimensions[chr(ord("A") + index)].width = max(len(header), 12) + 4
    return workbook_bytes(workbook)


# ------------------------------------------------------------------------------------------------ values

LEGAL_FORM_WORDS = (  # folded word -> legal form; the longer names first ("to hop tac" before "hop tac")
    ("to hop tac", LegalForm.COOPERATIVE_GROUP), ("tht", LegalForm.COOPERATIVE_GROUP),
    ("cooperative group", LegalForm.COOPERATIVE_GROUP),
    ("hop tac xa", LegalForm.COOPERATIVE), ("htx", LegalForm.COOPERATIVE), ("cooperative", LegalForm.COOPERATIVE),
    ("ho kinh doanh", LegalForm.HOUSEHOLD), ("hkd", LegalForm.HOUSEHOLD), ("ho san xuat", LegalForm.HOUSEHOLD),
    ("co so", LegalForm.HOUSEHOLD), ("household", LegalForm.HOUSEHOLD),
    ("doanh nghiep", LegalForm.ENTERPRISE), ("cong ty", LegalForm.ENTERPRISE), ("dntn", LegalForm.ENTERPRISE),
    ("tnhh", LegalForm.ENTERPRISE), ("co phan", LegalForm.ENTERPRISE), ("enterprise", LegalForm.ENTERPRISE),
    ("company", LegalForm.ENTERPRISE),
)
LEVEL_WORDS = {"huyen": IssuingLevel.DISTRICT, "cap huyen": IssuingLevel.DISTRICT, "district": IssuingLevel.DISTRICT,
               "tinh": IssuingLevel.PROVINCE, "cap tinh": IssuingLevel.PROVINCE, "province": IssuingLevel.PROVINCE,
               "provincial": IssuingLevel.PROVINCE, "trung uong": IssuingLevel.CENTRAL,
               "cap trung uong": IssuingLevel.CENTRAL, "quoc gia": IssuingLevel.CENTRAL,
               "cap quoc gia": IssuingLevel.CENTRAL, "central": IssuingLevel.CENTRAL,
               "national": IssuingLevel.CENTRAL}
ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6"}


def _group_names() -> dict[str, str]:
    names = {}
    for code, group in GROUPS.items():
        names[fold(group.vi)] = code
        names[fold(group.en)] = code
    names.update({"thao duoc": "3", "duoc lieu": "3", "thu cong my nghe": "4", "thu cong": "4",
                  "du lich": "6", "dich vu du lich": "6", "du lich cong dong": "6", "do uong": "2"})
    return names


GROUP_NAMES = _group_names()


def parse_group(value: Cell) -> str | None:
    """'1', 'Nhóm 1', 'I', 'Thực phẩm', 'thuc pham', 'Food', or a sub-group code '1.3c' -> the group's code."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = re.sub(r"\s+", " ", fold(str(value))).strip().rstrip(".")
    text = re.sub(r"^(nhom|group)\s+", "", text)
    text = ROMAN.get(text, text)
    if text in GROUPS:
        return text
    if text in SUBGROUPS:
        return group_of(text)
    return GROUP_NAMES.get(text)


def parse_legal_form(value: Cell) -> LegalForm | None:
    text = f" {re.sub(r'[^a-z0-9]+', ' ', fold(str(value or '')))} "
    for word, form in LEGAL_FORM_WORDS:
        if f" {word} " in text:
            return form
    return None


def parse_level(value: Cell) -> IssuingLevel | None:
    text = re.sub(r"\s+", " ", fold(str(value or ""))).strip()
    return LEVEL_WORDS.get(text) or LEVEL_WORDS.get(text.removeprefix("cap ").strip())


def parse_whole(value: Cell) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = str(value).strip()
    text = re.sub(r"\s*(sao|★|diem|điểm)$", "", text, flags=re.IGNORECASE)
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+[.,]0+", text):
        return int(re.split(r"[.,]", text)[0])
    return None


_DISTRICT_PREFIX = re.compile(r"^(tp\.?|tx\.?|h\.|thanh pho|thi xa|huyen)\s*")


def _district_names() -> dict[str, str]:
    names = {}
    for key, label in admin_units.FORMER_DISTRICTS.items():
        names[_DISTRICT_PREFIX.sub("", fold(label)).strip()] = key
    return names


DISTRICT_NAMES = _district_names()


class _Localities:
    """Commune (2025 ward codes of the home province) or former district, cached per import."""

    def __init__(self, province_code: int):
        self.province_code = province_code
        self.cache: dict[str, tuple[int | None, str | None] | None] = {}

    def find(self, value: str) -> tuple[int | None, str | None] | None:
        """(ward_code, former_district key), either may be None; None when nothing is recognised."""
        key = fold(value)
        if key not in self.cache:
            ward, district = None, None
            for part in re.split(r"[,;/-]", value):
                part = part.strip()
                if not part:
                    continue
                folded = _DISTRICT_PREFIX.sub("", fold(part)).strip()
                if district is None and folded in DISTRICT_NAMES and not fold(part).startswith(("xa ", "phuong ")):
                    district = DISTRICT_NAMES[folded]
                    continue
                if ward is None:
                    ward = admin_units.ward_code_by_name(self.province_code, part)
            self.cache[key] = (ward, district) if ward or district else None
        return self.cache[key]


# ------------------------------------------------------------------------------------------------ results

@dataclass(frozen=True)
class RowError:
    row: int | None      # as the user sees it in the spreadsheet; None: the whole file
    column: str | None   # the column's header as written in the file (or the template's name); None: the row
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        return f"{where}, column {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


NEW_PRODUCER, NEW_PRODUCT, ALREADY_RECORDED = "new_producer", "new_product", "already_recorded"


@dataclass
class PreviewRow:
    number: int
    product_name: str | None = None
    producer_name: str | None = None
    group_code: str | None = None
    stars: int | None = None
    score: int | None = None
    level: IssuingLevel | None = None
    decision_no: str | None = None
    decision_date: date | None = None
    registration_no: str | None = None
    legal_form: LegalForm | None = None
    ward_code: int | None = None
    former_district: str | None = None
    producer_id: int | None = None
    product_id: int | None = None
    notes: list[str] = field(default_factory=list)   # NEW_PRODUCER, NEW_PRODUCT, ALREADY_RECORDED
    errors: list[RowError] = field(default_factory=list)

    @property
    def skipped(self) -> bool:
        return ALREADY_RECORDED in self.notes


@dataclass
class ImportPreview:
    rows: list[PreviewRow] = field(default_factory=list)
    file_errors: list[RowError] = field(default_factory=list)

    @property
    def errors(self) -> list[RowError]:
        return [*self.file_errors, *(error for row in self.rows for error in row.errors)]

    @property
    def ok(self) -> bool:
        return not self.file_errors and not any(row.errors for row in self.rows)

    @property
    def to_record(self) -> list[PreviewRow]:
        return [row for row in self.rows if not row.errors and not row.skipped]

    @property
    def counts(self) -> dict[str, int]:
        new_producers = {_producer_key(row) for row in self.rows if NEW_PRODUCER in row.notes}
        new_products = {_product_key(row) for row in self.rows if NEW_PRODUCT in row.notes}
        return {"rows": len(self.rows), "errors": len(self.errors),
                "rows_with_errors": sum(1 for row in self.rows if row.errors),
                "certificates": len(self.to_record), "skipped": sum(1 for row in self.rows if row.skipped),
                "new_producers": len(new_producers), "new_products": len(new_products)}


def _producer_key(row: PreviewRow):
    return ("id", row.producer_id) if row.producer_id else ("new", fold(row.producer_name or ""))


def _product_key(row: PreviewRow):
    return (*_producer_key(row), ("id", row.product_id) if row.product_id else fold(row.product_name or ""))


# ------------------------------------------------------------------------------------------------ preview

class _Cells:
    def __init__(self, row: PreviewRow, values: dict[str, Cell], labels: dict[str, str]):
        self.row, self.values, self.labels = row, values, labels

    def note(self, key: str | None, message) -> None:
        self.row.errors.append(RowError(self.row.number, self.labels.get(key) if key else None, str(message)))

    def text(self, key: str, *, required: bool = True, max_length: int = 200) -> str | None:
        value = self.values.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, date):
            value = value.strftime("%d/%m/%Y")
        text = None if value is None else re.sub(r"\s+", " ", str(value)).strip() or None
        if text is None and required:
            self.note(key, _l("This cell is required."))
        elif text is not None and len(text) > max_length:
            self.note(key, _l("At most %(n)s characters.", n=max_length))
            return None
        return text


def preview_import(sheet: Sheet, *, province_code: int, day: date | None = None) -> ImportPreview:
    """Every row checked and matched; nothing written."""
    day = day or today()
    preview = ImportPreview()
    positions, header_errors = _positions(sheet)
    if header_errors:
        preview.file_errors.extend(header_errors)
        return preview
    if not sheet.rows:
        preview.file_errors.append(RowError(None, None, str(_l("The file has a header but no rows below it."))))
        return preview
    labels = {key: sheet.header[index] for key, index in positions.items()}
    labels.update({column.key: column.header for column in COLUMNS if column.key not in labels})
    localities = _Localities(province_code)
    parsed: list[tuple[PreviewRow, _Cells]] = []
    for number, cells in sheet.rows:
        values = {key: cells[index] if index < len(cells) else None for key, index in positions.items()}
        row = PreviewRow(number)
        reader = _Cells(row, values, labels)
        _parse_row(reader, day, localities)
        parsed.append((row, reader))
    _match(parsed)
    preview.rows = [row for row, _reader in parsed]
    return preview


def _positions(sheet: Sheet) -> tuple[dict[str, int], list[RowError]]:
    positions: dict[str, int] = {}
    unknown, doubled = [], []
    for index, name in enumerate(sheet.header):
        key = _HEADER_INDEX.get(_header_key(name))
        if key is None:
            if name.strip() and _header_key(name) not in IGNORED_HEADERS:
                unknown.append(name)
            continue
        if key in positions:
            doubled.append(name)
            continue
        positions[key] = index
    missing = [column.header for column in COLUMNS if column.required and column.key not in positions]
    errors = []
    if missing or unknown:
        parts = []
        if missing:
            parts.append(str(_l("missing: %(names)s", names=", ".join(missing))))
        if unknown:
            parts.append(str(_l("unknown: %(names)s", names=", ".join(unknown))))
        errors.append(RowError(sheet.header_row, None, str(_l(
            "The header row does not have the columns of the template (%(problems)s). Expected: %(expected)s. "
            "Download the template to start from the right columns.", problems="; ".join(parts),
            expected=", ".join(column.header for column in COLUMNS)))))
    if doubled:
        errors.append(RowError(sheet.header_row, None, str(_l("These columns appear more than once: %(names)s.",
                                                              names=", ".join(doubled)))))
    return positions, errors


def _parse_row(cells: _Cells, day: date, localities: _Localities) -> None:
    row = cells.row
    row.product_name = cells.text("product")
    row.producer_name = cells.text("producer")
    row.registration_no = cells.text("registration_no", required=False, max_length=30)
    if row.registration_no:
        row.registration_no = row.registration_no.replace(" ", "")
    legal = cells.text("legal_form", required=False)
    if legal:
        row.legal_form = parse_legal_form(legal)
        if row.legal_form is None:
            cells.note("legal_form", _l("“%(value)s” is not a legal form: write doanh nghiệp, hợp tác xã, "
                                        "tổ hợp tác or hộ kinh doanh.", value=legal))
    locality = cells.text("locality", required=False)
    if locality:
        found = localities.find(locality)
        if found is not None:
            row.ward_code, row.former_district = found
        else:
            row.notes.append("unknown_locality:" + locality)
    group = cells.values.get("group")
    if group is None:
        cells.note("group", _l("This cell is required."))
    else:
        row.group_code = parse_group(group)
        if row.group_code is None:
            cells.note("group", _l("“%(value)s” is not one of the 6 OCOP groups (1 Thực phẩm, 2 Đồ uống, 3 Thảo "
                                   "dược, 4 Thủ công mỹ nghệ, 5 Sinh vật cảnh, 6 Dịch vụ du lịch).", value=group))
    stars = cells.values.get("stars")
    if stars is None:
        cells.note("stars", _l("This cell is required."))
    else:
        row.stars = parse_whole(stars)
        if row.stars is None or not 1 <= row.stars <= 5:
            cells.note("stars", _l("Stars must be a whole number from 1 to 5, not “%(value)s”.", value=stars))
            row.stars = None
    score = cells.values.get("score")
    if score is not None:
        row.score = parse_whole(score)
        if row.score is None or not 0 <= row.score <= 100:
            cells.note("score", _l("The score must be a whole number from 0 to 100, not “%(value)s”.", value=score))
            row.score = None
        elif row.stars is not None:
            low, high = STAR_BANDS[row.stars]
            if not low <= row.score <= high:
                cells.note("score", _l("A score of %(score)s does not give %(stars)s stars (%(low)s–%(high)s "
                                       "points).", score=row.score, stars=row.stars, low=low, high=high))
    row.decision_no = cells.text("decision_no", max_length=60)
    when = cells.values.get("decision_date")
    if when is None:
        cells.note("decision_date", _l("This cell is required."))
    else:
        row.decision_date = parse_day(when)
        if row.decision_date is None:
            cells.note("decision_date", _l("“%(value)s” is not a date: write dd/mm/yyyy.", value=when))
        elif row.decision_date > day:
            cells.note("decision_date", _l("The decision date %(date)s is in the future.",
                                           date=row.decision_date.strftime("%d/%m/%Y")))
            row.decision_date = None
    level = cells.text("level", max_length=40)
    if level:
        row.level = parse_level(level)
        if row.level is None:
            cells.note("level", _l("“%(value)s” is not a level: write huyện, tỉnh or trung ương.", value=level))
        elif row.level == IssuingLevel.CENTRAL and row.stars is not None and row.stars != 5:
            cells.note("level", _l("Only 5-star products are recognised at the central level."))


def _chunks(values: list) -> list[list]:
    return [values[start:start + CHUNK] for start in range(0, len(values), CHUNK)]


def _match(parsed: list[tuple[PreviewRow, _Cells]]) -> None:
    """Producers by registration number then folded name, products by folded name within their producer,
    certificates already recorded by product and decision number: a few queries for the whole file."""
    numbers = sorted({row.registration_no for row, _ in parsed if row.registration_no})
    by_number: dict[str, tuple[int, str, str | None]] = {}
    for chunk in _chunks(numbers):
        for pid, name, number in db.session.execute(
                sa.select(Producer.id, Producer.name, Producer.registration_no)
                .where(Producer.registration_no.in_(chunk))):
            by_number[number] = (pid, name, number)
    by_name: dict[str, list[tuple[int, str, str | None]]] = {}
    if any(row.producer_name for row, _ in parsed):
        for pid, name, number in db.session.execute(
                sa.select(Producer.id, Producer.name, Producer.registration_no).order_by(Producer.id)):
            by_name.setdefault(fold(name), []).append((pid, name, number))

    for row, cells in parsed:
        if not row.producer_name:
            continue
        found = by_number.get(row.registration_no) if row.registration_no else None
        if found is None:
            candidates = by_name.get(fold(row.producer_name), [])
            if row.registration_no:
                # A producer of that name with another registration number is another producer.
                candidates = [c for c in candidates if c[2] in (None, row.registration_no)]
            if len(candidates) > 1:
                cells.note("producer", _l("Several producers are called “%(name)s”: give the registration number "
                                          "to say which.", name=row.producer_name))
                continue
            found = candidates[0] if candidates else None
        if found is not None:
            row.producer_id = found[0]

    producer_ids = sorted({row.producer_id for row, _ in parsed if row.producer_id})
    products: dict[tuple[int, str], list[int]] = {}
    for chunk in _chunks(producer_ids):
        for product_id, producer_id, name in db.session.execute(
                sa.select(Product.id, Product.producer_id, Product.name).where(Product.producer_id.in_(chunk))
                .order_by(Product.id)):
            products.setdefault((producer_id, fold(name)), []).append(product_id)
    for row, cells in parsed:
        if row.producer_id and row.product_name:
            ids = products.get((row.producer_id, fold(row.product_name)), [])
            if len(ids) > 1:
                cells.note("product", _l("This producer has several products called “%(name)s”.",
                                         name=row.product_name))
            elif ids:
                row.product_id = ids[0]

    product_ids = sorted({row.product_id for row, _ in parsed if row.product_id})
    recorded: dict[tuple[int, str], tuple[int, date]] = {}
    for chunk in _chunks(product_ids):
        for product_id, number, stars, decided in db.session.execute(
                sa.select(Certificate.product_id, Certificate.decision_no, Certificate.stars,
                          Certificate.decision_date).where(Certificate.product_id.in_(chunk))):
            recorded[(product_id, fold(number))] = (stars, decided)

    seen: dict[tuple, int] = {}
    for row, cells in parsed:
        _check_creation(row, cells)
        if not (row.product_name and row.producer_name and row.decision_no):
            continue
        key = (_product_key(row), fold(row.decision_no))
        if key in seen:
            cells.note("decision_no", _l("Row %(row)s already has this product with this decision.", row=seen[key]))
            continue
        seen[key] = row.number
        if row.product_id:
            existing = recorded.get((row.product_id, fold(row.decision_no)))
            if existing is not None:
                if row.stars is not None and existing[0] != row.stars:
                    cells.note("stars", _l("Decision %(number)s is already recorded for this product with "
                                           "%(stars)s stars.", number=row.decision_no, stars=existing[0]))
                elif row.decision_date is not None and existing[1] != row.decision_date:
                    cells.note("decision_date", _l("Decision %(number)s is already recorded for this product, "
                                                   "dated %(date)s.", number=row.decision_no,
                                                   date=existing[1].strftime("%d/%m/%Y")))
                else:
                    row.notes.append(ALREADY_RECORDED)


def _check_creation(row: PreviewRow, cells: _Cells) -> None:
    """A producer or product the site does not know is created when the row says enough about it."""
    unknown_locality = next((note for note in row.notes if note.startswith("unknown_locality:")), None)
    if unknown_locality:
        row.notes.remove(unknown_locality)
    if row.producer_name and row.producer_id is None and not any(e.column == cells.labels["producer"]
                                                                  for e in row.errors):
        row.notes.append(NEW_PRODUCER)
        if row.legal_form is None and cells.values.get("legal_form") is None:
            cells.note("legal_form", _l("“%(name)s” is a new producer: give its legal form.", name=row.producer_name))
        if unknown_locality:
            cells.note("locality", _l("“%(value)s” is not a commune or former district of the province.",
                                      value=unknown_locality.split(":", 1)[1]))
        elif row.ward_code is None and row.former_district is None:
            cells.note("locality", _l("“%(name)s” is a new producer: give its commune or former district.",
                                      name=row.producer_name))
    if row.product_name and row.product_id is None and row.producer_name:
        row.notes.append(NEW_PRODUCT)


# ------------------------------------------------------------------------------------------------ commit

@dataclass
class ImportSummary:
    certificates: int = 0
    skipped: int = 0
    new_producers: int = 0
    new_products: int = 0


def commit_import(preview: ImportPreview, *, province_code: int, actor=None) -> ImportSummary:
    """Record every row of a clean preview: all or nothing (the caller rolls back on an error). New products
    are drafts without a price, so nothing reaches the storefront before their producer completes them."""
    if not preview.ok:
        raise DomainError(str(_l("The file has errors: nothing was imported.")), field="file", code="import_errors")
    summary = ImportSummary(skipped=sum(1 for row in preview.rows if row.skipped))
    producers: dict[tuple, Producer] = {}
    products: dict[tuple, Product] = {}
    rows = sorted(preview.to_record, key=lambda row: (row.decision_date, row.number))  # older decisions first
    # The services flush what they create themselves; autoflushing before each of their look-ups on top of that
    # doubled the time of a large file.
    with db.session.no_autoflush:
        for row in rows:
            _commit_row(row, province_code, actor, producers, products, summary)
    db.session.flush()
    return summary


def _commit_row(row: PreviewRow, province_code: int, actor, producers: dict, products: dict,
                summary: ImportSummary) -> None:
    """One row through the services; a refusal (the data changed since the preview) names its row."""
    try:
        producer_key = _producer_key(row)
        producer = producers.get(producer_key)
        if producer is None:
            if row.producer_id:
                producer = db.session.get(Producer, row.producer_id)
            else:
                producer = create_producer(name=row.producer_name, legal_form=row.legal_form,
                                           registration_no=row.registration_no, province_code=province_code,
                                           ward_code=row.ward_code, former_district=row.former_district, actor=actor)
                summary.new_producers += 1
            producers[producer_key] = producer
        product_key = _product_key(row)
        product = products.get(product_key)
        if product is None:
            if row.product_id:
                product = db.session.get(Product, row.product_id)
            else:
                product = create_product(producer, name=row.product_name, group_code=row.group_code, price_vnd=0,
                                         actor=actor)
                summary.new_products += 1
            products[product_key] = product
        record_certificate(product, stars=row.stars, level=row.level, decision_no=row.decision_no,
                           decision_date=row.decision_date, score=row.score, actor=actor)
    except DomainError as error:
        raise DomainError(f"row {row.number}: {error.message}", field="file", code=error.code) from error
    summary.certificates += 1
