"""Card payment pages and the Stripe webhook.

/orders/<number>/pay shows the card form (Stripe.js from STRIPE_JS_URL; localstripe's in development) and
static/js/pay.js confirms the payment, then goes to /orders/<number>/payment-return, which reads the intent on the
server; the webhook records the same outcome on its own (whichever comes first, the other changes nothing).
Access to an order's pages: its owner logged in, or anyone with the order's secret key (?key=); else 404."""
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from shop.core.errors import DomainError
from shop.core.unit_of_work import unit_of_work
from shop.extensions import csrf
from shop.orders.models import Order, OrderPaymentMethod, OrderStatus
from shop.orders.queries import order_for_viewer
from shop.payments import services
from shop.web import CSP, json_error

bp = Blueprint("payments", __name__)

# Real Stripe.js: its script and frames (Stripe's documented policy) and the API it calls.
STRIPE_SOURCES = {"script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
                  "connect-src": ["https://api.stripe.com"],
                  "frame-src": ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"]}


@bp.post("/payments/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    """Stripe (or localstripe) tells us what happened to an intent. Signed; each event id acts once."""
    try:
        with unit_of_work():
            received = services.receive_stripe_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except DomainError as error:
        return json_error(error.status, error.code, error.message)
    if received.outcome == "paid_after_cancellation":
        _refund_late_payment(received.order)
    return jsonify({"received": True, "outcome": received.outcome})


def _refund_late_payment(order: Order | None) -> None:
    """After the payment is on record (committed): give it back. A failure leaves the order listed as "refund due"
    for the point, and the next delivery of the event finds it recorded."""
    if order is None:
        return
    try:
        with unit_of_work():
            services.refund_late_payment(order)
    except DomainError as error:
        current_app.logger.warning("automatic refund of order %s failed: %s", order.number, error.message)


# ------------------------------------------------------------------------------------------------- card pages

def _order_for_visitor(number: str) -> Order:
    order = order_for_viewer(number, current_user, request.args.get("key"))
    if order is None:
        abort(404)  # not 403: an order number alone reveals nothing
    return order


def _order_url(order: Order, suffix: str = "") -> str:
    key = request.args.get("key")
    return f"/orders/{order.number}{suffix}" + (f"?{urlencode({'key': key})}" if key else "")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _payment_csp() -> str:
    """The site's policy plus Stripe.js: real Stripe's sources, or the sandbox's (localstripe serves its Stripe.js
    and its API from one origin)."""
    config = current_app.config
    policy = config.get("CONTENT_SECURITY_POLICY", CSP)
    extra = STRIPE_SOURCES
    if config.get("STRIPE_API_BASE"):
        sandbox = {_origin(config["STRIPE_JS_URL"]), _origin(config["STRIPE_API_BASE"])}
        extra = {"script-src": sorted(sandbox), "connect-src": sorted(sandbox)}
    directives = [part.strip() for part in policy.split(";") if part.strip()]
    names = [directive.split()[0] for directive in directives]
    for name, origins in extra.items():
        if name in names:
            index = names.index(name)
            directives[index] = " ".join([directives[index], *origins])
        else:
            directives.append(" ".join([name, "'self'", *origins]))
    return "; ".join(directives)


@bp.get("/orders/<number>/pay")
def pay(number: str):
    order = _order_for_visitor(number)
    if order.payment_method != OrderPaymentMethod.CARD or order.status != OrderStatus.PENDING_PAYMENT:
        return redirect(_order_url(order))
    try:
        with unit_of_work():  # the intent is asked of Stripe once and kept: showing the page again reuses it
            payment = services.start_card_payment(order)
    except DomainError as error:
        return current_app.make_response((render_template(
            "payments/pay.html", order=order, payment=None, error=error.message,
            retry_url=_order_url(order, "/pay"), order_url=_order_url(order)), 503))
    config = current_app.config
    response = current_app.make_response(render_template(
        "payments/pay.html", order=order, payment=payment, error=None, stripe_js_url=config["STRIPE_JS_URL"],
        publishable_key=config["STRIPE_PUBLISHABLE_KEY"], sandbox=bool(config.get("STRIPE_API_BASE")),
        return_url=_order_url(order, "/payment-return"), sandbox_url=_order_url(order, "/pay/sandbox-card"),
        order_url=_order_url(order)))
    response.headers["Content-Security-Policy"] = _payment_csp()
    response.headers["Cache-Control"] = "no-store"  # the page carries the intent's client secret
    return response


@bp.post("/orders/<number>/pay/sandbox-card")
def sandbox_card(number: str):
    """Development only (localstripe): its Stripe.js tokenises the card but cannot confirm with it, so the
    server attaches the token to the intent and confirms it. JSON in ({token}), JSON out."""
    if not current_app.config.get("STRIPE_API_BASE"):
        abort(404)
    order = _order_for_visitor(number)
    token = (request.get_json(silent=True) or {}).get("token")
    if not isinstance(token, str) or not token.startswith("tok_"):
        return json_error(400, "bad_token", _("The card could not be read. Please try again."))
    try:
        with unit_of_work():
            payment = services.confirm_sandbox_card(order, token)
    except DomainError as error:  # a declined card reaches the order through the webhook (payment_failed)
        return json_error(402 if error.code == "card_declined" else error.status, error.code, error.message)
    return jsonify({"status": payment.status, "client_secret": payment.client_secret})


@bp.get("/orders/<number>/payment-return")
def payment_return(number: str):
    """Where the browser lands after paying: the truth is read from Stripe on the server, never from the URL."""
    order = _order_for_visitor(number)
    try:
        with unit_of_work():  # what Stripe says is recorded once (a conditional update), whoever asks first
            paid = services.sync_from_intent(order)
    except DomainError as error:
        flash(error.message, "warning")
        return redirect(_order_url(order))
    if paid or order.paid_vnd > 0:
        flash(_("Thank you: your payment has been received."), "success")
    else:
        flash(_("Your payment has not been confirmed yet. If you paid, this page will update shortly."), "info")
    return redirect(_order_url(order))
