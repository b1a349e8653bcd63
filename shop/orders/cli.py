"""`flask orders expire`: cancel the orders whose hold has run out (unpaid card orders after 30 minutes, pickups
not collected in time) and put their stock back on the shelf. Meant for a job every few minutes: one transaction,
exit 0, one line per expired order and the count."""
import click
from flask.cli import AppGroup

from shop.core.unit_of_work import command_unit
from shop.orders.services import expire_overdue

orders_cli = AppGroup("orders", help="Order housekeeping for jobs.")


@orders_cli.command("expire")
def expire() -> None:
    """Expire every overdue order and release the stock it held."""
    with command_unit():
        expired = expire_overdue()
        lines = [f"{order.number}  expired: {order.cancel_reason}" for order in expired]
    for line in lines:
        click.echo(line)
    click.echo(f"{len(lines)} order(s) expired.")
