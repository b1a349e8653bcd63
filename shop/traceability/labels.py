"""Printable label sheets of a lot: A4, 3 × 8 labels of 70 × 37 mm (the common 24-up sticker sheet).

Each label: the product name (Vietnamese, wrapped on two lines and shrunk to fit), the OCOP stars with the
certificate's decision number and validity, the lot code, production and expiry dates, the lot's QR code (its
GS1 Digital Link) and, for a 13-digit GTIN, the EAN-13 barcode drawn as vector bars with its digits. Every label of
a sheet is the same, so the layout is worked out once and the QR picture is embedded once and reused."""
import io
from dataclasses import dataclass
from datetime import date

import barcode
from flask_babel import lazy_gettext as _l

from shop.certification.models import Certificate
from shop.certification.queries import current_certificate
from shop.core.clock import format_date, today
from shop.core.pdf import FONT, new_document, to_bytes
from shop.traceability.digital_link import digital_link
from shop.traceability.models import Lot
from shop.traceability.qr import qr_png

PAGE_W, PAGE_H = 210.0, 297.0
COLUMNS, ROWS = 3, 8
LABEL_W, LABEL_H = 70.0, 37.0
PER_PAGE = COLUMNS * ROWS
MARGIN_X = (PAGE_W - COLUMNS * LABEL_W) / 2
MARGIN_Y = (PAGE_H - ROWS * LABEL_H) / 2
PAD = 3.0
QR_SIZE = 23.0
TEXT_W = LABEL_W - 2 * PAD - QR_SIZE - 1.5
PT = 0.3528  # mm per point
MAX_COPIES = 500
QR_PNG_SCALE = 10  # pixels per module: crisp at any print size

# EAN-13 at 85 % of nominal size (module 0.33 mm): bars 0.28 mm wide, height cut short for a small label.
EAN_MODULE = 0.28
EAN_BAR_H = 7.0
EAN_GUARDS = {0, 1, 2, 45, 46, 47, 48, 49, 92, 93, 94}


@dataclass(frozen=True)
class LabelText:
    name_lines: list[str]
    name_size: float
    stars: str | None
    certificate_lines: list[str]
    lot_line: str
    dates_line: str
    trace_code: str


def label_qr_png(url: str) -> bytes:
    """The QR picture put on every label of the sheet."""
    return qr_png(url, QR_PNG_SCALE)


def ean13_pattern(gtin: str | None) -> str | None:
    """The 95 modules ("1" = bar) of an EAN-13, or None when the product has no 13-digit GTIN."""
    if not gtin or len(gtin) != 13 or not gtin.isdigit():
        return None
    return barcode.get("ean13", gtin).build()[0]


def _fit_name(pdf, name: str) -> tuple[list[str], float]:
    """The name on at most two lines of the text column, shrinking the type from 9 to 6 points; at 6 points a
    longer name is cut with an ellipsis."""
    for size in (9, 8.5, 8, 7.5, 7, 6.5, 6):
        pdf.set_font(FONT, "B", size)
        lines = pdf.multi_cell(TEXT_W, size * PT * 1.15, name, dry_run=True, output="LINES", align="L")
        if len(lines) <= 2:
            return lines, size
    first, rest = lines[0], " ".join(lines[1:])
    while rest and pdf.get_string_width(rest + "…") > TEXT_W:
        rest = rest[:-1]
    return [first, rest.rstrip() + "…"], 6


def _layout(pdf, lot: Lot, certificate: Certificate | None) -> LabelText:
    name_lines, name_size = _fit_name(pdf, lot.product.name)
    stars, certificate_lines = None, []
    if certificate is not None:
        stars = "OCOP " + "★" * certificate.stars
        certificate_lines = [str(_l("Decision %(number)s", number=certificate.decision_no)),
                             str(_l("valid until %(day)s", day=format_date(certificate.valid_until)))]
    dates = str(_l("Made %(day)s", day=format_date(lot.production_date)))
    if lot.expiry_date:
        dates += " · " + str(_l("Use by %(day)s", day=format_date(lot.expiry_date)))
    return LabelText(name_lines, name_size, stars, certificate_lines,
                     str(_l("Lot: %(code)s", code=lot.lot_code)), dates, lot.trace_code)


def _text(pdf, x: float, y: float, text: str, size: float, style: str = "", width: float = TEXT_W,
          align: str = "L") -> float:
    """One line at (x, y), its type shrunk down to 5 points to fit the width, then cut; returns the y of the next
    line (kept as for the asked size, so labels line up)."""
    height = size * PT * 1.2
    pdf.set_font(FONT, style, size)
    while size > 5 and pdf.get_string_width(text) > width:
        size -= 0.25
        pdf.set_font(FONT, style, size)
    while len(text) > 1 and pdf.get_string_width(text) > width:
        text = text[:-2] + "…"
    pdf.set_xy(x, y)
    pdf.cell(width, height, text, align=align)
    return y + height


def _draw_ean13(pdf, x: float, y: float, gtin: str, pattern: str) -> None:
    digit_size = 6.0
    bars_x = x + 2.2  # room for the first digit, printed left of the bars
    run_start = None
    for index, module in enumerate(pattern + "0"):
        if module == "1" and run_start is None:
            run_start = index
        elif module != "1" and run_start is not None:
            extra = 1.2 if run_start in EAN_GUARDS else 0.0
            pdf.rect(bars_x + run_start * EAN_MODULE, y, (index - run_start) * EAN_MODULE, EAN_BAR_H + extra,
                     style="F")
            run_start = None
    text_y = y + EAN_BAR_H + 0.1
    _text(pdf, x, text_y, gtin[0], digit_size, width=2.0)
    _text(pdf, bars_x + 3 * EAN_MODULE, text_y, gtin[1:7], digit_size, width=42 * EAN_MODULE, align="C")
    _text(pdf, bars_x + 50 * EAN_MODULE, text_y, gtin[7:], digit_size, width=42 * EAN_MODULE, align="C")


def _draw_label(pdf, x: float, y: float, text: LabelText, qr: bytes, gtin: str | None, pattern: str | None) -> None:
    pdf.image(io.BytesIO(qr), x=x + LABEL_W - PAD - QR_SIZE, y=y + PAD - 0.5, w=QR_SIZE, h=QR_SIZE)
    _text(pdf, x + LABEL_W - PAD - QR_SIZE, y + PAD - 0.5 + QR_SIZE, text.trace_code, 5.5, width=QR_SIZE, align="C")
    cursor = y + PAD
    for line in text.name_lines:
        cursor = _text(pdf, x + PAD, cursor, line, text.name_size, "B")
    if text.stars:
        cursor = _text(pdf, x + PAD, cursor + 0.2, text.stars, 7.5, "B")
    for line in text.certificate_lines:
        cursor = _text(pdf, x + PAD, cursor, line, 6)
    cursor = _text(pdf, x + PAD, cursor + 0.3, text.lot_line, 7, "B")
    _text(pdf, x + PAD, cursor, text.dates_line, 6)
    if pattern:
        _draw_ean13(pdf, x + PAD, y + LABEL_H - PAD - EAN_BAR_H - 2.4, gtin, pattern)


def render_label_sheet(lot: Lot, copies: int = PER_PAGE, *, base_url: str, day: date | None = None,
                       compress: bool = True) -> bytes:
    """The PDF of `copies` labels of the lot (24 a page). `base_url` is the public address printed in the QR;
    `compress=False` leaves the page content readable (tests look for the text in it)."""
    if not 1 <= copies <= MAX_COPIES:
        raise ValueError(f"copies must be between 1 and {MAX_COPIES}")
    product = lot.product
    pdf = new_document(title=str(_l("Labels of lot %(code)s", code=lot.lot_code)), author=product.producer.name)
    pdf.set_compression(compress)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_text_color(0, 0, 0)
    pdf.set_fill_color(0, 0, 0)
    pdf.add_page()  # fpdf measures text on a page
    text = _layout(pdf, lot, current_certificate(product.id, day or today()))
    qr = label_qr_png(digital_link(lot, base_url))
    pattern = ean13_pattern(product.gtin)
    for index in range(copies):
        slot = index % PER_PAGE
        if slot == 0 and index:
            pdf.add_page()
        column, row = slot % COLUMNS, slot // COLUMNS
        _draw_label(pdf, MARGIN_X + column * LABEL_W, MARGIN_Y + row * LABEL_H, text, qr, product.gtin, pattern)
    return to_bytes(pdf)
