"""`flask inventory verify`: recompute every stock level from the ledger and report each difference."""
import sys
import time

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from shop.catalog.models import Product
from shop.extensions import db
from shop.inventory.models import Lot, StockLevel, StockMovement
from shop.inventory.queries import verify_ledger
from shop.sales_points.models import SalesPoint

inventory_cli = AppGroup("inventory", help="Stock and ledger checks.")


@inventory_cli.command("verify")
def verify() -> None:
    """Exit 0 when every level equals the sum of its ledger rows; otherwise list the differences, exit 1."""
    started = time.perf_counter()
    differences = verify_ledger()
    levels = db.session.scalar(sa.select(sa.func.count()).select_from(StockLevel))
    movements = db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement))
    seconds = time.perf_counter() - started
    if not differences:
        click.echo(f"Checked {levels} stock levels against {movements} ledger rows in {seconds:.1f} s: "
                   "no difference.")
        return
    for difference in differences:
        point = db.session.get(SalesPoint, difference.point_id)
        product = db.session.get(Product, difference.product_id)
        lot = db.session.get(Lot, difference.lot_id)
        shown = "no stock level" if difference.on_hand is None else f"on hand {difference.on_hand}"
        click.echo(f"{point.code if point else difference.point_id}  {product.slug if product else difference.product_id}"
                   f"  lot {lot.lot_code if lot else difference.lot_id}: {shown}, ledger says "
                   f"{difference.ledger_total}", err=True)
    click.echo(f"{len(differences)} difference(s) among {levels} stock levels and {movements} ledger rows "
               f"({seconds:.1f} s).", err=True)
    sys.exit(1)
