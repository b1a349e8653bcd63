"""The only door to Stripe (the official `stripe` SDK). In development and tests it talks over HTTP to localstripe
(STRIPE_API_BASE); in production to Stripe itself. Every call builds its own `StripeClient` from the current app's
configuration and closes its HTTP session afterwards, so nothing global leaks between apps or tests.

What leaves this module is plain data (`Intent`, `WebhookEvent`) and three errors: `GatewayUnavailable` (network,
timeout, Stripe down: the buyer may retry later), `GatewayDeclined` (the card was refused) and `GatewayRefused`
(Stripe refused the request itself), plus `BadSignature` for a webhook that does not come from Stripe."""
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests
import stripe
from flask import current_app

TIMEOUT_SECONDS = 10  # a checkout must not hang on a slow payment server
NETWORK_RETRIES = 1   # one retry with the same idempotency key, never more


class GatewayError(Exception):
    """Stripe could not do what was asked; `str(error)` is Stripe's message."""


class GatewayUnavailable(GatewayError):
    """Stripe (or localstripe) could not be reached or failed: nothing was decided, try again later."""


class GatewayDeclined(GatewayError):
    """The card was declined."""


class GatewayRefused(GatewayError):
    """Stripe refused the request (unknown intent, nothing left to refund…)."""


class BadSignature(GatewayError):
    """A webhook body whose signature is missing, wrong or stale, or that is not an event at all."""


@dataclass(frozen=True)
class Intent:
    id: str
    status: str          # requires_payment_method, requires_action, processing, succeeded, canceled…
    amount_vnd: int      # VND is zero-decimal: the amount is whole đồng
    currency: str
    client_secret: str
    order_number: str | None
    failure_message: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    intent: Intent | None  # the PaymentIntent the event is about, if it is about one


@dataclass(frozen=True)
class RefundResult:
    id: str
    amount_vnd: int
    status: str


@contextmanager
def _client() -> Iterator[stripe.StripeClient]:
    config = current_app.config
    base = config.get("STRIPE_API_BASE")
    with requests.Session() as session:
        http = stripe.RequestsClient(timeout=TIMEOUT_SECONDS, session=session)
        client = stripe.StripeClient(config["STRIPE_SECRET_KEY"], http_client=http,
                                     max_network_retries=NETWORK_RETRIES,
                                     base_addresses={"api": base.rstrip("/")} if base else None)
        try:
            yield client
        except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError,
                stripe.AuthenticationError) as error:
            current_app.logger.warning("payment server unavailable: %s", error)
            raise GatewayUnavailable(error.user_message or str(error)) from error
        except stripe.CardError as error:
            raise GatewayDeclined(error.user_message or str(error)) from error
        except stripe.StripeError as error:
            raise GatewayRefused(error.user_message or str(error)) from error


def _intent(data) -> Intent:
    data = data.to_dict() if isinstance(data, stripe.StripeObject) else data
    error = data.get("last_payment_error") or {}
    metadata = data.get("metadata") or {}
    return Intent(id=data["id"], status=data["status"], amount_vnd=int(data["amount"]), currency=data["currency"],
                  client_secret=data.get("client_secret") or "", order_number=metadata.get("order_number"),
                  failure_message=error.get("message"))


def create_payment_intent(amount_vnd: int, order_number: str, idempotency_key: str) -> Intent:
    """A card PaymentIntent in VND. The idempotency key makes a retried request return the same intent."""
    with _client() as client:
        intent = client.v1.payment_intents.create(
            params={"amount": amount_vnd, "currency": "vnd", "payment_method_types": ["card"],
                    "metadata": {"order_number": order_number}},
            options={"idempotency_key": idempotency_key})
    return _intent(intent)


def retrieve_payment_intent(intent_id: str) -> Intent:
    with _client() as client:
        return _intent(client.v1.payment_intents.retrieve(intent_id))


def confirm_with_card_token(intent_id: str, token_id: str) -> Intent:
    """Sandbox only (localstripe's Stripe.js cannot confirm with a card element): put the card a browser
    tokenised on a customer (where localstripe declines 4000 0000 0000 0002, as Stripe does), attach it to the
    intent and confirm on the server. A declined card raises GatewayDeclined; a card asking for 3-D Secure leaves
    the intent in requires_action for the browser's stripe.confirmCardPayment."""
    with _client() as client:
        customer = client.v1.customers.create(params={"source": token_id})
        client.v1.payment_intents.update(intent_id, params={"payment_method": customer["default_source"],
                                                            "customer": customer["id"]})
        return _intent(client.v1.payment_intents.confirm(intent_id))


def cancel_payment_intent(intent_id: str) -> Intent:
    """No payment may succeed on it any more (the order was cancelled or its hold ran out)."""
    with _client() as client:
        return _intent(client.v1.payment_intents.cancel(intent_id))


def refund(intent_id: str, amount_vnd: int, idempotency_key: str | None = None) -> RefundResult:
    with _client() as client:
        result = client.v1.refunds.create(params={"payment_intent": intent_id, "amount": amount_vnd},
                                          options={"idempotency_key": idempotency_key} if idempotency_key else None)
    return RefundResult(id=result["id"], amount_vnd=int(result["amount"]), status=result["status"])


def construct_event(payload: bytes, signature_header: str | None, secret: str) -> WebhookEvent:
    """Verify the Stripe-Signature header (HMAC-SHA256 of "t.payload" with the endpoint secret, within 5 minutes)
    and read the event. Anything else raises BadSignature."""
    try:
        event = stripe.Webhook.construct_event(payload, signature_header, secret,
                                               api_key=current_app.config["STRIPE_SECRET_KEY"])
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as error:
        raise BadSignature(str(error)) from error
    try:
        obj = event.to_dict()["data"]["object"]
        intent = _intent(obj) if obj.get("object") == "payment_intent" else None
        return WebhookEvent(id=event["id"], type=event["type"], intent=intent)
    except (KeyError, TypeError, ValueError) as error:
        raise BadSignature(f"not a Stripe event: {error}") from error
