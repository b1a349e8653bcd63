"""`flask payments sandbox-webhook`: tell localstripe (STRIPE_API_BASE) to send its signed events to this app's
webhook. localstripe keeps webhooks in memory only, so `make run` calls this every time it starts it.
`flask payments send-refunds`: send to Stripe the card refunds recorded but not yet taken by it."""
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import click
from flask import current_app
from flask.cli import AppGroup

payments_cli = AppGroup("payments", help="Card refunds waiting for Stripe; payment sandbox (localstripe) helpers.")

WEBHOOK_NAME = "ocop"


@payments_cli.command("sandbox-webhook")
@click.option("--url", "webhook_url", default="http://127.0.0.1:5000/payments/stripe/webhook", show_default=True,
              help="Where localstripe sends events: this app's /payments/stripe/webhook.")
@click.option("--wait", "wait_seconds", default=15.0, show_default=True,
              help="Seconds to wait for localstripe to start answering.")
def sandbox_webhook(webhook_url: str, wait_seconds: float) -> None:
    """Register the app's webhook (with STRIPE_WEBHOOK_SECRET) at localstripe."""
    base = current_app.config.get("STRIPE_API_BASE")
    if not base:
        raise click.ClickException("STRIPE_API_BASE is not set: there is no payment sandbox to configure.")
    body = urllib.parse.urlencode({"url": webhook_url,
                                   "secret": current_app.config["STRIPE_WEBHOOK_SECRET"]}).encode()
    target = f"{base.rstrip('/')}/_config/webhooks/{WEBHOOK_NAME}"
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(target, data=body, method="POST"), timeout=5):
                break
        except urllib.error.HTTPError as error:
            raise click.ClickException(f"localstripe refused the webhook ({error.code}).") from error
        except OSError as error:
            if time.monotonic() > deadline:
                raise click.ClickException(f"localstripe does not answer at {base}: {error}") from error
            time.sleep(0.3)
    click.echo(f"localstripe at {base} sends its events to {webhook_url}")


@payments_cli.command("send-refunds")
def send_refunds() -> None:
    """Send every card refund still waiting for Stripe (each with its own key: never twice). Exit 1 if one fails."""
    from shop.core.errors import DomainError
    from shop.core.unit_of_work import unit_of_work
    from shop.payments import services

    waiting = services.refunds_waiting_for_stripe()
    failed = 0
    with click.progressbar(waiting, label="Sending card refunds", file=sys.stderr) as bar:
        for record in bar:
            number, amount = record.order_id, record.amount_vnd
            try:
                with unit_of_work():  # one refund per transaction: a failure keeps the ones already sent
                    services.send_card_refund(record)
            except DomainError as error:
                failed += 1
                click.echo(f"refund {record.id} of order id {number} ({amount} VND): {error.message}", err=True)
    click.echo(f"{len(waiting) - failed} of {len(waiting)} card refunds sent to Stripe.")
    if failed:
        sys.exit(1)
