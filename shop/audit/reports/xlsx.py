"""The periodic report as an XLSX workbook: a cover sheet (period, generation time, list of tables), then one
sheet per table with a bold header row, real numbers and dates, VND and date number formats and a bold
totals row."""
import re

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from shop.audit.reports.tables import DATE, INT, VND, Report, Table
from shop.core.clock import format_datetime
from shop.core.tabular import workbook_bytes

VND_FORMAT = '#,##0 "₫"'
INT_FORMAT = "#,##0"
DATE_FORMAT = "DD/MM/YYYY"
FORMATS = {VND: VND_FORMAT, INT: INT_FORMAT, DATE: DATE_FORMAT}
MAX_SHEET_NAME = 31
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)


def sheet_names(titles: list[str], taken: set[str] | None = None) -> list[str]:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique (case-insensitively)."""
    used = {name.lower() for name in taken or ()}
    names = []
    for title in titles:
        base = re.sub(r"[\[\]:*?/\\]", " ", title).strip().strip("'") or "Sheet"
        base = re.sub(r"\s+", " ", base)
        name, counter = base[:MAX_SHEET_NAME].rstrip(), 2
        while name.lower() in used:
            suffix = f" ({counter})"
            name = base[:MAX_SHEET_NAME - len(suffix)].rstrip() + suffix
            counter += 1
        used.add(name.lower())
        names.append(name)
    return names


def _write_table(sheet, table: Table) -> None:
    sheet.append([table.title])
    sheet["A1"].font = TITLE
    if table.note:
        sheet.append([table.note])
    sheet.append([])
    sheet.append([column.label for column in table.columns])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = BOLD
    for row in table.rows:
        sheet.append(row)
    if table.totals is not None:
        sheet.append(table.totals)
        for cell in sheet[sheet.max_row]:
            cell.font = BOLD
    for index, column in enumerate(table.columns, start=1):
        number_format = FORMATS.get(column.kind)
        letter = get_column_letter(index)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=header_row + 1, min_col=index, max_col=index):
                cell.number_format = number_format
        longest = max([len(column.label)] + [len(str(row[index - 1])) for row in table.rows[:500]])
        sheet.column_dimensions[letter].width = min(max(10, longest + 2), 60)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)


def build_xlsx(report: Report) -> bytes:
    workbook = Workbook()
    cover = workbook.active
    cover_name, *names = sheet_names([str(_l("Report"))] + [table.sheet or table.title for table in report.tables])
    cover.title = cover_name
    cover.append([report.title])
    cover["A1"].font = TITLE
    cover.append([str(_l("Period")), report.start, report.end])
    cover.append([str(_l("Generated at")), format_datetime(report.generated_at)])
    for cell in (cover["B2"], cover["C2"]):
        cell.number_format = DATE_FORMAT
    cover.append([])
    cover.append([str(_l("Sheet")), str(_l("Table"))])
    for cell in cover[cover.max_row]:
        cell.font = BOLD
    for name, table in zip(names, report.tables, strict=True):
        cover.append([name, table.title])
        _write_table(workbook.create_sheet(name), table)
    cover.column_dimensions["A"].width = 34
    cover.column_dimensions["B"].width = 70
    cover.column_dimensions["C"].width = 14
    return workbook_bytes(workbook)  # names of points and products are text, never formulas
