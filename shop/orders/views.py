"""The customer's order pages: my orders, one order (for its owner or through the secret link emailed to guests)
with its timeline and pickup code, and cancelling while the order has not left the point."""
import segno
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length, Optional

from shop.orders import queries, services
from shop.orders.emails import template_labels
from shop.orders.models import Fulfilment, OrderPaymentMethod, OrderStatus
from shop.web import form_status, page_arg, submit_form

bp = Blueprint("orders", __name__)

# Statuses in which the pickup code is worth showing: paid (or paid at the counter) and not yet collected.
CODE_SHOWN = frozenset({OrderStatus.CONFIRMED, OrderStatus.READY_FOR_PICKUP})


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Why are you cancelling? (optional)"), validators=[Optional(), Length(max=500)])
    key = HiddenField()


@bp.after_request
def personal_page(response):
    """Order pages are personal and their URL may carry the secret key: never stored, never sent as a referrer."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.context_processor
def names():
    return template_labels()


@bp.route("")
@login_required
def my_orders():
    page = queries.orders_of(current_user, page_arg())
    return render_template("orders/my_orders.html", orders=page)


@bp.route("/<number>")
def order_detail(number: str):
    key = _given_key()
    return _render_detail(_viewable_order(number, key), CancelForm(formdata=None, key=key), key)


@bp.route("/<number>/cancel", methods=["POST"])
def order_cancel(number: str):
    key = _given_key()
    order = _viewable_order(number, key)
    form = CancelForm()
    actor = current_user if current_user.is_authenticated else None
    if submit_form(form, lambda: services.cancel(order, reason=_cancel_reason(form), actor=actor, by_customer=True),
                   success=_("Your order is cancelled."), default_field="reason"):
        return redirect(url_for(".order_detail", number=order.number, key=key))
    return _render_detail(order, form, key), form_status()


def _given_key() -> str | None:
    """The secret of the emailed link: in the query string, or in the hidden field of the cancel form."""
    return request.values.get("key") or None


def _viewable_order(number: str, key: str | None):
    order = queries.order_for_viewer(number, current_user, key)
    if order is None:
        abort(404)  # the same answer for an unknown number and a wrong key
    return order


def _cancel_reason(form: CancelForm) -> str:
    return (form.reason.data or "").strip() or _("Customer cancelled")


def _render_detail(order, cancel_form: CancelForm, key: str | None):
    return render_template(
        "orders/order_detail.html", order=order, key=key, cancel_form=cancel_form,
        cancellable=order.status in services.CUSTOMER_CANCELLABLE,
        show_code=order.fulfilment == Fulfilment.PICKUP and order.status in CODE_SHOWN and bool(order.pickup_code),
        pickup_qr=pickup_qr_svg(order.pickup_code) if order.pickup_code else None,
        pay_url=_pay_url(order))


def _pay_url(order) -> str | None:
    """The card payment page (payments' blueprint) while a card order waits for its payment."""
    if order.payment_method != OrderPaymentMethod.CARD or order.status != OrderStatus.PENDING_PAYMENT:
        return None
    return url_for("payments.pay", number=order.number, key=order.access_key)


def pickup_qr_svg(code: str) -> Markup:
    """The pickup code as an inline SVG QR code (no style attributes: the CSP forbids them). It encodes the code
    alone, so a scanner typing into the hand-over form's code field enters exactly the code."""
    svg = segno.make(code, error="m", micro=False).svg_inline(scale=6, border=2, svgclass="pickup-qr__code",
                                                             lineclass=None, omitsize=True)
    return Markup(svg)  # built by segno from digits only: nothing user-written in it
