"""`flask payments sandbox-webhook`: tell localstripe (STRIPE_API_BASE) to send its signed events to this app's
webhook. localstripe keeps webhooks in memory only, so `make run` calls this every time it starts it."""
import time
import urllib.error
import urllib.parse
import urllib.request

import click
from flask import current_app
from flask.cli import AppGroup

payments_cli = AppGroup("payments", help="Payment sandbox (localstripe) helpers.")

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
