"""Money is an integer number of đồng (VND has no minor unit). Display: `150.000 ₫`."""
CURRENCY = "VND"


def format_vnd(amount: int | None) -> str:
    if amount is None:
        return ""
    # Vietnamese grouping with dots whatever the UI language (what Babel's vi locale gives, without its cost on
    # pages listing hundreds of amounts); a no-break space keeps "₫" with its number.
    return f"{int(amount):,}".replace(",", ".") + "\u00a0₫"
