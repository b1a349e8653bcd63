"""Orders to fulfil at a sales point, for its managers: the list, an order with its pick list by lot, and the
actions of the pipeline (ready, hand over, ship, delivered, cancel, refund). Every route sits behind
point_area_guard (the point in the URL is checked first); an order is looked up within that point, so another
point's order number is a 404. Each action is one service call and one commit; a refusal re-renders the order
with the message (400) and changes nothing."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.core.admin_units import short_address
from shop.core.errors import DomainError
from shop.core.unit_of_work import unit_of_work
from shop.extensions import db
from shop.orders import queries, services
from shop.orders.manage_forms import (
    EVENT_LABELS,
    CancelForm,
    HandOverForm,
    OrderActionForm,
    OrderFilterForm,
    ShipForm,
    refund_form_for,
    statuses_for,
)
from shop.orders.models import Fulfilment, Order, OrderPaymentMethod, OrderStatus
from shop.orders.transitions import staff_actions
from shop.payments import services as payments
from shop.sales_points.access import can_change, point_area_guard, point_from_url
from shop.web import page_arg, submit_creating_form, submit_form

bp = Blueprint("orders_point_manage", __name__)
bp.before_request(point_area_guard)


@bp.context_processor
def labels():
    return {"status_labels": OrderStatus.labels(), "fulfilment_labels": Fulfilment.labels(),
            "payment_labels": OrderPaymentMethod.labels(), "event_labels": EVENT_LABELS}


# ------------------------------------------------------------------------------------------------- reading

def _order_or_404(point, number: str) -> Order:
    """The order if this point serves it; another point's number (a tampered URL) is not found."""
    order = queries.order_at_point(point.id, number)
    if order is None:
        abort(404)
    return order


# The form of each action, built for an order (the refund form has fields per line).
ACTION_FORMS = {
    "ready": lambda order, **kwargs: OrderActionForm(**kwargs),
    "hand_over": lambda order, **kwargs: HandOverForm(**kwargs),
    "ship": lambda order, **kwargs: ShipForm(**kwargs),
    "delivered": lambda order, **kwargs: OrderActionForm(**kwargs),
    "cancel": lambda order, **kwargs: CancelForm(**kwargs),
    "refund": refund_form_for,
}


def _render_order(point, order: Order, *, failed: str | None = None, form=None, status: int = 200):
    """The order page; after a refused action, `form` (the refused one, with its messages) replaces the blank
    form of action `failed`."""
    forms = {name: make(order, formdata=None) for name, make in ACTION_FORMS.items()}
    if failed:
        forms[failed] = form
    actions = staff_actions(order) if can_change(current_user, point) else frozenset()
    return render_template("orders/manage/order_detail.html", point=point, order=order, forms=forms,
                           failed=failed, actions=actions, cash_due=payments.cash_to_collect(order),
                           pick_rows=queries.pick_list(order.id), actors=queries.actors_of(order),
                           address=short_address(order.street, order.ward_code, order.province_code)), status


@bp.route("/<code>/orders")
def orders(code: str):
    point = point_from_url(code)
    filters = OrderFilterForm(formdata=request.args)
    page = queries.orders_at_point(point.id, statuses_for(filters.status.data), page_arg())
    return render_template("orders/manage/orders.html", point=point, page=page, filters=filters)


@bp.route("/<code>/orders/<number>")
def order_detail(code: str, number: str):
    point = point_from_url(code)
    return _render_order(point, _order_or_404(point, number))


# ------------------------------------------------------------------------------------------------- actions

def _act(code: str, number: str, name: str, action, success: str):
    """The protocol of every action: the order within the point, the posted form, one service call, commit;
    a refusal rolls back and shows the order again with the message (400)."""
    point = point_from_url(code)
    order = _order_or_404(point, number)
    form = ACTION_FORMS[name](order)
    if submit_form(form, lambda: action(order, form), success=success, default_field="status"):
        return redirect(url_for(".order_detail", code=point.code, number=order.number), code=303)
    db.session.expire_all()  # show the order as it is in the database, not as the refused action left it
    return _render_order(point, _order_or_404(point, number), failed=name, form=form, status=400)


def _send_to_stripe(record) -> None:
    """A card refund goes to Stripe once it is committed (never while the order is locked)."""
    try:
        with unit_of_work():
            payments.send_card_refund(record)
    except DomainError as error:
        flash(_("The refund is recorded, but the payment service did not take it yet (%(reason)s). It is sent "
                "again by `flask payments send-refunds`.", reason=error.message), "warning")


def _refund(order: Order, form):
    return payments.refund(order, lines=form.decisions(line.id for line in order.lines),
                           amount_vnd=form.amount_vnd.data, reason=form.reason.data, actor=current_user)


@bp.route("/<code>/orders/<number>/ready", methods=["POST"])
def ready(code: str, number: str):
    # The pickup window (configured) starts again when the goods are ready: the customer only now knows.
    return _act(code, number, "ready",
                lambda order, form: services.mark_ready(order, actor=current_user, holds=payments.holds_from_config()),
                _("The order is ready for pickup."))


@bp.route("/<code>/orders/<number>/hand-over", methods=["POST"])
def hand_over(code: str, number: str):
    return _act(code, number, "hand_over",
                lambda order, form: payments.hand_over_collecting_cash(order, form.pickup_code.data,
                                                                       actor=current_user),
                _("The order is handed over and completed."))


@bp.route("/<code>/orders/<number>/ship", methods=["POST"])
def ship(code: str, number: str):
    return _act(code, number, "ship",
                lambda order, form: services.ship(order, tracking_note=form.tracking_note.data, actor=current_user),
                _("The order is shipped: the goods have left the shelf."))


@bp.route("/<code>/orders/<number>/delivered", methods=["POST"])
def delivered(code: str, number: str):
    return _act(code, number, "delivered",
                lambda order, form: payments.complete_delivery_collecting_cash(order, actor=current_user),
                _("The order is delivered and completed."))


@bp.route("/<code>/orders/<number>/cancel", methods=["POST"])
def cancel(code: str, number: str):
    return _act(code, number, "cancel",
                lambda order, form: services.cancel(order, reason=form.reason.data, actor=current_user),
                _("The order is cancelled; its goods are back in this point's stock."))


@bp.route("/<code>/orders/<number>/refund", methods=["POST"])
def refund(code: str, number: str):
    # A refund creates money movement: its form carries a one-time key, so a double click refunds once.
    point = point_from_url(code)
    order = _order_or_404(point, number)
    form = ACTION_FORMS["refund"](order)
    made = []  # the refund recorded, to send to Stripe once committed

    def record_refund():
        made.append(_refund(order, form))
        return made[-1]

    done = submit_creating_form(form, "refund", record_refund,
                                lambda _record: url_for(".order_detail", code=point.code, number=order.number),
                                success=_("The refund is recorded."), default_field="status", redirect_code=303)
    if done:
        if made:
            _send_to_stripe(made[-1])
        return done
    db.session.expire_all()
    return _render_order(point, _order_or_404(point, number), failed="refund", form=form, status=400)
