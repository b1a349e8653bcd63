"""GS1 Digital Link URLs of lots: `/01/<GTIN-14>/10/<lot>` when the product has a GTIN, else the short `/t/<code>`.

A GTIN in a link may be written with 8, 12, 13 or 14 digits; GS1 pads it with leading zeros to 14 digits, and a
product keeps the form it was registered with, so a lookup tries every shorter form of the same number."""
from urllib.parse import quote

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from stdnum import ean
from stdnum.exceptions import InvalidChecksum, ValidationError

from shop.catalog.models import Product
from shop.core.errors import DomainError
from shop.extensions import db
from shop.traceability.models import Lot

GTIN_LENGTHS = (8, 12, 13, 14)


class BadGtin(DomainError):
    code = "bad_gtin"


def parse_gtin(raw: str) -> str:
    """The 14-digit form of a GTIN read from a link; BadGtin when it is not 8/12/13/14 digits or its check digit is
    wrong."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) not in GTIN_LENGTHS:
        raise BadGtin(str(_l("“%(value)s” is not a GTIN: a GTIN has 8, 12, 13 or 14 digits.", value=raw[:40])),
                      field="gtin")
    try:
        ean.validate(raw)
    except InvalidChecksum:
        raise BadGtin(str(_l("The GTIN %(value)s has a wrong check digit.", value=raw)), field="gtin") from None
    except ValidationError:
        raise BadGtin(str(_l("“%(value)s” is not a GTIN: a GTIN has 8, 12, 13 or 14 digits.", value=raw[:40])),
                      field="gtin") from None
    return raw.zfill(14)


def gtin14(gtin: str | None) -> str | None:
    """A stored GTIN (8/12/13/14 digits) padded to 14 digits, as GS1 keys are written in links; None without one."""
    if not gtin or not gtin.isdigit() or len(gtin) not in GTIN_LENGTHS:
        return None
    return gtin.zfill(14)


def stored_forms(gtin_14: str) -> list[str]:
    """Every way a product may have stored this GTIN: the 14 digits and each shorter form that only drops zeros."""
    forms = [gtin_14]
    for length in (13, 12, 8):
        if set(gtin_14[:14 - length]) == {"0"}:
            forms.append(gtin_14[14 - length:])
    return forms


def product_by_gtin(gtin_14: str) -> Product | None:
    return db.session.scalar(sa.select(Product).where(Product.gtin.in_(stored_forms(gtin_14))).limit(1))


def lot_of_product(product_id: int, lot_code: str) -> Lot | None:
    return db.session.scalar(sa.select(Lot).where(Lot.product_id == product_id, Lot.lot_code == lot_code))


def link_path(lot: Lot) -> str:
    """The path of the lot's link: the GS1 Digital Link when the product has a GTIN, else /t/<trace code>."""
    gtin = gtin14(lot.product.gtin)
    if gtin is None:
        return f"/t/{lot.trace_code}"
    return f"/01/{gtin}/10/{quote(lot.lot_code, safe='')}"


def digital_link(lot: Lot, base_url: str) -> str:
    """The full URL printed in the lot's QR code; `base_url` is the site's public address (PUBLIC_URL)."""
    return base_url.rstrip("/") + link_path(lot)
