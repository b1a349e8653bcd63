"""Forms of a point's order back office: the list's status filter, and one form per action on an order (mark
ready, hand over, ship, delivered, cancel, refund). Refusals that belong to no single input (an invalid
transition) are shown above the order, in the form's `status` box."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from shop.core.forms import REQUIRED, OnceKeyForm, WholeNumberField, at_most, required
from shop.inventory.forms import FormProblems
from shop.orders.models import OrderStatus

EVENT_LABELS = {
    "placed": _l("Placed"), "confirmed": _l("Confirmed"), "paid": _l("Paid by card"),
    "payment_failed": _l("Card payment failed"), "paid_after_cancellation": _l("Paid after cancellation"),
    "ready_for_pickup": _l("Ready for pickup"), "handed_over": _l("Handed over"), "shipped": _l("Shipped"),
    "delivered": _l("Delivered"), "cancelled": _l("Cancelled"), "expired": _l("Expired"),
    "refunded": _l("Refunded"), "partially_refunded": _l("Partly refunded"), "cash_collected": _l("Cash collected"),
}

# The list's filter: "to do" (what the point still has to act on) by default.
TO_DO = "todo"
EVERY_STATUS = "all"
TO_DO_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.READY_FOR_PICKUP, OrderStatus.SHIPPED)


def statuses_for(choice: str | None) -> tuple[OrderStatus, ...] | None:
    """The statuses a filter value shows (None: every status); anything unknown falls back to "to do"."""
    if choice == EVERY_STATUS:
        return None
    status = next((status for status in OrderStatus if status.value == choice), None)
    return (status,) if status else TO_DO_STATUSES


class OrderFilterForm(FlaskForm):
    """Read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), default=TO_DO, validate_choice=False, choices=[
        SelectChoice(TO_DO, _l("To do (confirmed, ready, shipped)")),
        *(SelectChoice(*choice) for choice in OrderStatus.choices()),
        SelectChoice(EVERY_STATUS, _l("Every status")),
    ])


class OrderActionForm(FlaskForm):
    """A button and the CSRF token (mark ready, delivered). Refusals are shown above the order."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status = FormProblems()


class HandOverForm(OrderActionForm):
    pickup_code = StringField(_l("Pickup code the customer shows"), validators=[required(), at_most(8)])


class ShipForm(OrderActionForm):
    tracking_note = TextAreaField(_l("Tracking note (carrier, parcel number)"), validators=[required(), at_most(500)])


class CancelForm(OrderActionForm):
    reason = TextAreaField(_l("Reason for cancelling"), validators=[required(), at_most(500)])


class RefundForm(OnceKeyForm, OrderActionForm):
    """Built per order by refund_form_for: per line a quantity (quantity_<id>) and "back in stock"
    (restock_<id>), then the amount and the reason."""

    amount_vnd = WholeNumberField(_l("Amount to refund (VND)"), validators=[
        InputRequired(REQUIRED), NumberRange(min=1, message=_l("The amount must be greater than zero."))])
    reason = TextAreaField(_l("Reason for the refund"), validators=[required(), at_most(500)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = FormProblems()
        # The cancel form on the same page has a `reason` too: the posted name stays, the HTML id differs.
        self.reason.id = self.reason.label.field_id = "refund-reason"

    def line_fields(self, line_id: int):
        return self[f"quantity_{line_id}"], self[f"restock_{line_id}"]

    def decisions(self, line_ids) -> dict[int, tuple[int, bool]]:
        """order line id → (quantity, back in stock), for the lines with a quantity: what payments.refund takes."""
        decided = {}
        for line_id in line_ids:
            quantity, restock = self.line_fields(line_id)
            if quantity.data:
                decided[line_id] = (quantity.data, bool(restock.data))
        return decided


def refund_form_for(order, *args, **kwargs) -> RefundForm:
    class OrderRefundForm(RefundForm):
        pass

    for line in order.lines:
        left = line.quantity_not_refunded
        message = _l("Between 0 and %(max)s (sold and not yet refunded).", max=left)
        setattr(OrderRefundForm, f"quantity_{line.id}", WholeNumberField(
            _l("Units refunded: %(name)s", name=line.product_name), default=0,
            validators=[Optional(), NumberRange(min=0, max=left, message=message)]))
        setattr(OrderRefundForm, f"restock_{line.id}", BooleanField(
            _l("Back in stock: %(name)s", name=line.product_name), default=False))
    return OrderRefundForm(*args, **kwargs)
