"""The periodic report as a printable PDF: A4 landscape, the title and the period (dd/mm/yyyy), then each table
with its header repeated at the top of every page it runs onto, and page numbers. Vietnamese prints right
through the embedded DejaVu font of shop.core.pdf.

Tables are drawn with plain cells (one line per row, long text shortened with "…"): fpdf's generic table
layout costs about ten times more per row, and the yearly report on the scale data has thousands of rows."""
from flask_babel import lazy_gettext as _l

from shop.audit.reports.tables import DATE, INT, VND, Report, Table
from shop.core.clock import format_date, format_datetime
from shop.core.money import format_vnd
from shop.core.pdf import new_document, to_bytes

LINE = 5.2         # body row height, mm
HEADER_LINE = 4.4  # header line height, mm
FONT_SIZE = 8.5
NUMERIC = {INT, VND, DATE}


def _text(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == VND and isinstance(value, int):
        return format_vnd(value)
    if kind == INT and isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if kind == DATE:
        return format_date(value)
    return str(value)


class _Writer:
    def __init__(self, pdf):
        self.pdf = pdf
        self.width = pdf.w - pdf.l_margin - pdf.r_margin
        self.bottom = pdf.h - pdf.b_margin

    def fit(self, text: str, width: float) -> str:
        """The text shortened with "…" to fit the cell (1 mm padding each side)."""
        room = width - 2
        if self.pdf.get_string_width(text) <= room:
            return text
        low, high = 0, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if self.pdf.get_string_width(text[:middle] + "…") <= room:
                low = middle
            else:
                high = middle - 1
        return text[:low].rstrip() + "…"

    def widths(self, table: Table) -> list[float]:
        pdf = self.pdf
        wanted = []
        for index, column in enumerate(table.columns):
            values = [_text(row[index], column.kind) for row in table.rows[:300]]
            if table.totals is not None:
                values.append(_text(table.totals[index], column.kind))
            longest = max((pdf.get_string_width(v) for v in values), default=0) + 3
            label = max(pdf.get_string_width(word) for word in column.label.split() or [""]) + 3
            wanted.append(max(longest, label, 12 if column.kind in NUMERIC else 18))
        total = sum(wanted)
        if total <= self.width:
            return wanted
        # Too wide: numbers keep their width, text columns share what is left.
        fixed = sum(w for w, c in zip(wanted, table.columns, strict=True) if c.kind in NUMERIC)
        flexible = total - fixed
        room = max(self.width - fixed, 30)
        return [w if c.kind in NUMERIC else max(14, w * room / flexible) for w, c in
                zip(wanted, table.columns, strict=True)]

    def header(self, table: Table, widths: list[float]) -> None:
        pdf = self.pdf
        pdf.set_font(style="B", size=FONT_SIZE)
        lines = [pdf.multi_cell(w - 2, HEADER_LINE, c.label, dry_run=True, output="LINES")
                 for w, c in zip(widths, table.columns, strict=True)]
        height = max(len(x) for x in lines) * HEADER_LINE + 1.6
        if pdf.get_y() + height + LINE > self.bottom:
            pdf.add_page()
        x, y = pdf.l_margin, pdf.get_y()
        pdf.set_fill_color(230, 240, 232)
        for width, column in zip(widths, table.columns, strict=True):
            pdf.rect(x, y, width, height, style="DF")
            pdf.set_xy(x + 1, y + 0.8)
            pdf.multi_cell(width - 2, HEADER_LINE, column.label, align="R" if column.kind in NUMERIC else "L")
            x += width
        pdf.set_xy(pdf.l_margin, y + height)
        pdf.set_font(style="", size=FONT_SIZE)

    def row(self, values: list, table: Table, widths: list[float], *, bold: bool = False) -> None:
        pdf = self.pdf
        if bold:
            pdf.set_font(style="B")
        for width, column, value in zip(widths, table.columns, values, strict=True):
            numeric = column.kind in NUMERIC
            text = _text(value, column.kind)
            pdf.cell(width, LINE, text if numeric else self.fit(text, width), border=1, align="R" if numeric else "L")
        pdf.ln(LINE)
        if bold:
            pdf.set_font(style="")

    def table(self, table: Table) -> None:
        pdf = self.pdf
        if pdf.get_y() + 30 > self.bottom:
            pdf.add_page()
        pdf.set_font(style="B", size=11)
        pdf.multi_cell(self.width, 6, table.title)
        if table.note:
            pdf.set_font(style="", size=8)
            pdf.multi_cell(self.width, 4, table.note)
        pdf.ln(1.5)
        widths = self.widths(table)
        self.header(table, widths)
        if not table.rows:
            pdf.cell(sum(widths), LINE, str(_l("Nothing in this period.")), border=1)
            pdf.ln(LINE)
        for values in table.rows:
            if pdf.get_y() + LINE > self.bottom:
                pdf.add_page()
                self.header(table, widths)
            self.row(values, table, widths)
        if table.totals is not None:
            if pdf.get_y() + LINE > self.bottom:
                pdf.add_page()
                self.header(table, widths)
            self.row(table.totals, table, widths, bold=True)
        pdf.ln(6)


def build_pdf(report: Report, *, compress: bool = True) -> bytes:
    pdf = new_document("L", title=f"{report.title} {report.period.label}", author=str(_l("OCOP programme")))
    pdf.set_compression(compress)
    pdf.set_auto_page_break(False)
    pdf.set_margins(10, 12, 10)
    pdf.b_margin = 12
    page_label = str(_l("Page"))

    def footer():
        pdf.set_y(-9)
        pdf.set_font(style="", size=7.5)
        pdf.cell(0, 4, f"{report.title} · {report.period.label} · {page_label} {pdf.page_no()}/{{nb}}", align="R")

    pdf.footer = footer
    pdf.add_page()
    pdf.set_font(style="B", size=16)
    pdf.cell(0, 9, report.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(style="", size=11)
    pdf.cell(0, 6, str(_l("Period: %(start)s – %(end)s", start=format_date(report.start), end=format_date(report.end))),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(style="", size=8.5)
    pdf.cell(0, 5, str(_l("Generated at %(when)s", when=format_datetime(report.generated_at))),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    writer = _Writer(pdf)
    for table in report.tables:
        writer.table(table)
    return to_bytes(pdf)
