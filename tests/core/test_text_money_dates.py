import unicodedata
from datetime import UTC, date, datetime

from shop.core.clock import add_months, format_date, format_datetime
from shop.core.money import format_vnd
from shop.core.text import fold, nfc, render_markdown, slugify


def test_money_is_vietnamese_dong_with_dots():
    assert format_vnd(150000) == "150.000\u00a0₫"
    assert format_vnd(0) == "0\u00a0₫"
    assert format_vnd(1_250_000_000) == "1.250.000.000\u00a0₫"


def test_dates_are_day_month_year():
    assert format_date(date(2025, 3, 7)) == "07/03/2025"
    # 23:30 UTC is already the next day in Vietnam (UTC+7)
    assert format_datetime(datetime(2025, 3, 7, 23, 30, tzinfo=UTC)) == "08/03/2025 06:30"


def test_fold_removes_marks_from_nfc_and_nfd_text():
    assert fold("Cà phê Đồng Nai") == "ca phe dong nai"
    assert fold(unicodedata.normalize("NFD", "Cà phê Đồng Nai")) == "ca phe dong nai"


def test_nfc_normalises_decomposed_input():
    decomposed = unicodedata.normalize("NFD", "Hạt điều")
    assert decomposed != "Hạt điều"
    assert nfc(decomposed) == "Hạt điều"


def test_slug_of_vietnamese_name():
    assert slugify("Hạt điều rang muối Đồng Nai") == "hat-dieu-rang-muoi-dong-nai"


def test_markdown_is_sanitised():
    html = str(render_markdown("**Ngon** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=y>"))
    assert "<strong>Ngon</strong>" in html
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html and "<img" not in html


def test_add_months_clamps_to_month_end():
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2022, 6, 15), 36) == date(2025, 6, 15)
