"""Money is an integer number of đồng (VND has no minor unit). Display: `150.000 ₫`."""
from babel.numbers import format_decimal

CURRENCY = "VND"


def format_vnd(amount: int | None) -> str:
    if amount is None:
        return ""
    # Vietnamese grouping with dots whatever the UI language; a no-break space keeps "₫" with its number.
    return f"{format_decimal(int(amount), format='#,##0', locale='vi')}\u00a0₫"
