"""Order emails: one message for each event the customer should hear about (placed, paid, ready for pickup, shipped,
cancelled or expired, refunded), in the order's language, with the order's secret link.

How a message travels: `order_event` (sent by orders.services) queues (order, kind, event) on the session; when the
outermost transaction commits, the messages are rendered just before (the order's final state of that transaction,
the database still readable) and handed over just after (shop.core.database.after_commit). A rollback drops them,
and so does a savepoint that rolled back the event. With MAIL_FOLDER set (development default: instance/mail) each
message is written there as an .eml file instead of being sent. Nothing here may break an order: failures are
logged."""
import atexit
import itertools
import logging
import os
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm
from flask import Flask, current_app, has_app_context, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mail import Mail, Message

from shop.core import admin_units
from shop.core.database import after_commit
from shop.core.urls import public_url_for
from shop.orders.manage_forms import EVENT_LABELS
from shop.orders.models import Fulfilment, Order, OrderEvent, OrderPaymentMethod, OrderStatus
from shop.orders.services import order_event

log = logging.getLogger(__name__)
mail = Mail()

# The events worth an email. "confirmed" is not one: it comes with "placed" (cash orders), whose email says so.
EMAIL_KINDS = frozenset({"placed", "paid", "ready_for_pickup", "shipped", "cancelled", "expired", "refunded",
                         "partially_refunded"})
_QUEUE = "order_emails"
_EXTENSION = "order_emails"
_file_numbers = itertools.count(1)
# Sending (an SMTP round trip, or writing a file) happens on one background thread, so that a buyer's checkout
# never waits for the mail server; MAIL_IN_BACKGROUND = False delivers in the request (the tests read the outbox).
_sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="order-mail")
atexit.register(_sender.shutdown, wait=True)


def init_app(app: Flask) -> None:
    mail.init_app(app)
    if app.config.get("MAIL_FOLDER") is None and app.config.get("SHOP_ENV") == "development":
        app.config["MAIL_FOLDER"] = os.path.join(app.instance_path, "mail")
    app.extensions[_EXTENSION] = True
    order_event.connect(_queue)  # connecting twice (several apps in one process) keeps one receiver


def template_labels() -> dict:
    """Names the order templates show instead of stored codes (pages and emails alike)."""
    return {"status_labels": OrderStatus.labels(), "fulfilment_labels": Fulfilment.labels(),
            "payment_labels": OrderPaymentMethod.labels(), "event_labels": EVENT_LABELS,
            "ward_name": admin_units.ward_name, "province_name": admin_units.province_name}


# ------------------------------------------------------------------------------------------------ queueing

def _queue(order: Order, *, kind: str, event: OrderEvent | None = None, **_ignored) -> None:
    if kind not in EMAIL_KINDS or not has_app_context() or not current_app.extensions.get(_EXTENSION):
        return
    session = sa.orm.object_session(order)
    if session is not None:
        session.info.setdefault(_QUEUE, []).append((order, kind, event))


@sa.event.listens_for(sa.orm.Session, "before_commit")
def _compose_queued(session) -> None:
    # A savepoint's release also fires before_commit: wait for the outermost commit.
    if not session.info.get(_QUEUE) or session.in_nested_transaction():
        return
    queued = session.info.pop(_QUEUE)
    with session.no_autoflush:  # a failing flush here would change the error the caller's commit reports
        messages = [message for order, kind, event in queued
                    if _still_happening(session, order, event) and (message := _safely_composed(order, kind, event))]
    if messages:
        after_commit(lambda: _hand_over(messages))


@sa.event.listens_for(sa.orm.Session, "after_soft_rollback")
def _forget_after_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(_QUEUE, None)


def _still_happening(session, order: Order, event: OrderEvent | None) -> bool:
    """False when a savepoint that created the event (or the order) was rolled back: they left the session."""
    return order in session and (event is None or event in session)


# ------------------------------------------------------------------------------------------------ composing

def _safely_composed(order: Order, kind: str, event: OrderEvent | None) -> Message | None:
    try:
        return compose(order, kind, event)
    except Exception:
        log.exception("Could not compose the %s email of order %s", kind, getattr(order, "number", "?"))
        return None


def compose(order: Order, kind: str, event: OrderEvent | None = None) -> Message:
    """The message for one event, in the language the customer ordered in."""
    with force_locale(order.locale):
        context = {**template_labels(), "order": order, "kind": kind, "event": event, "link": order_link(order)}
        message = Message(subject=_subject(order, kind), recipients=[order.email],
                          body=render_template("orders/email/order.txt", **context),
                          html=render_template("orders/email/order.html", **context),
                          extra_headers={"Content-Language": order.locale})
    message.order_number, message.kind = order.number, kind  # for the file name in MAIL_FOLDER
    return message


def _subject(order: Order, kind: str) -> str:
    number = order.number
    if kind == "placed":
        if order.status == OrderStatus.PENDING_PAYMENT:
            return _("Order %(number)s: waiting for your payment", number=number)
        return _("Order %(number)s is confirmed", number=number)
    subjects = {
        "paid": _("Payment received for order %(number)s", number=number),
        "ready_for_pickup": _("Order %(number)s is ready for pickup", number=number),
        "shipped": _("Order %(number)s is on its way", number=number),
        "cancelled": _("Order %(number)s is cancelled", number=number),
        "expired": _("Order %(number)s is cancelled", number=number),
        "refunded": _("Refund for order %(number)s", number=number),
        "partially_refunded": _("Refund for order %(number)s", number=number),
    }
    return subjects[kind]


def order_link(order: Order) -> str:
    """The order page with its secret key, on the site's public address (PUBLIC_URL), never on the Host header of
    whatever request happened to place the order: a forged Host would send the key elsewhere."""
    return public_url_for("orders.order_detail", number=order.number, key=order.access_key)


# ------------------------------------------------------------------------------------------------ delivering

def _hand_over(messages: list[Message]) -> None:
    if not current_app.config.get("MAIL_IN_BACKGROUND", True):
        deliver(messages)
        return
    app = current_app._get_current_object()

    def send_later() -> None:
        with app.app_context():
            deliver(messages)

    _sender.submit(send_later)


def wait_for_deliveries() -> None:
    """Block until every message handed over so far is sent (tests; a clean shutdown does it by itself)."""
    _sender.submit(lambda: None).result()


def deliver(messages: list[Message]) -> None:
    """Send (or write) each message; one failure is logged and does not stop the others."""
    folder = current_app.config.get("MAIL_FOLDER")
    for message in messages:
        try:
            if folder:
                write_to_folder(message, Path(folder))
            else:
                mail.send(message)
        except Exception:
            log.exception("Could not send the email %r to %s", message.subject, message.recipients)


def write_to_folder(message: Message, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    # The counter keeps the files of one instant in the order they were sent; the random tail keeps processes apart.
    name = re.sub(r"[^A-Za-z0-9_-]", "", f"{stamp}-{next(_file_numbers):06d}-{getattr(message, 'order_number', '')}-"
                                         f"{getattr(message, 'kind', 'mail')}-{secrets.token_hex(3)}")
    path = folder / f"{name}.eml"
    path.write_bytes(message.as_bytes())
    return path
