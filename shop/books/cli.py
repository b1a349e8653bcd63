"""`flask books verify` (also `flask inventory verify`, its older name): check every invariant of the books and
print each breach with the ids involved; exit 1 when there is one. For a nightly job."""
import sys
import time

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from shop.books.queries import CHECKS
from shop.extensions import db
from shop.inventory.cli import inventory_cli
from shop.inventory.models import StockLevel, StockMovement, Transfer
from shop.orders.models import Order

books_cli = AppGroup("books", help="Checks that stock and money agree everywhere.")

PROGRESS_FROM = 100_000  # ledger rows from which the checks take seconds: show a progress bar on stderr


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@books_cli.command("verify")
def verify() -> None:
    """Exit 0 when every invariant holds (ledger, reservations, transfers, refunds, cash, order statuses);
    otherwise print each breach, exit 1."""
    started = time.perf_counter()
    counts = {"stock levels": _count(StockLevel), "ledger rows": _count(StockMovement),
              "transfers": _count(Transfer), "orders": _count(Order)}
    breaches = []
    if counts["ledger rows"] >= PROGRESS_FROM:
        with click.progressbar(CHECKS, label="Checking the books", file=sys.stderr,
                               item_show_func=lambda check: check and check[0]) as bar:
            for _name, check in bar:
                breaches.extend(check())
    else:
        for _name, check in CHECKS:
            breaches.extend(check())
    seconds = time.perf_counter() - started
    checked = ", ".join(f"{count} {what}" for what, count in counts.items())
    if not breaches:
        click.echo(f"Checked {len(CHECKS)} invariants over {checked} in {seconds:.1f} s: no breach, "
                   "no difference.")
        return
    for breach in breaches:
        click.echo(str(breach))
    click.echo(f"{len(breaches)} breach(es) of the books among {checked} ({seconds:.1f} s).", err=True)
    sys.exit(1)


# The older name stays, for the jobs that call it (it used to check the ledger only).
inventory_cli.add_command(verify, "verify")
