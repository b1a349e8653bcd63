"""Cart and checkout forms. They only carry what the buyer typed: quantities, contact, address and choices are
checked by checkout.services (one place for the rules and their messages), never prices."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice

from shop.core.forms import LongSelect, OnceKeyForm, at_most
from shop.orders.models import Order


def optional_int(value):
    """A select's value as an int, None when empty or not a number (the service then says what is missing)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class CartLineForm(FlaskForm):
    """Add a product (product page) or change a line (cart page); quantity is parsed by the service."""

    product_id = HiddenField()
    quantity = StringField(_l("Quantity"), default="1", render_kw={"inputmode": "numeric"})


class CartRemoveForm(FlaskForm):
    product_id = HiddenField()


FULFILMENT_LABELS = {"pickup": _l("Pick up at a sales point"), "delivery": _l("Home delivery")}
PAYMENT_LABELS = {"card": _l("Card (Visa, Mastercard, JCB)"), "cash_on_delivery": _l("Cash on delivery"),
                  "pay_at_pickup": _l("Pay at the sales point when you collect")}


def choices(labels) -> list[SelectChoice]:
    """Choices from {value: label} pairs (or a list of such pairs)."""
    pairs = labels.items() if isinstance(labels, dict) else labels
    return [SelectChoice(str(value), label) for value, label in pairs]


def _length(column: str) -> int:
    return Order.__table__.c[column].type.length


class CheckoutForm(OnceKeyForm, FlaskForm):
    # The lengths of the order's columns: a longer text is a form message, not a database error.
    name = StringField(_l("Full name"), validators=[at_most(_length("contact_name"))],
                       render_kw={"autocomplete": "name"})
    phone = StringField(_l("Phone number"), validators=[at_most(_length("phone"))],
                        render_kw={"autocomplete": "tel", "type": "tel"})
    email = StringField(_l("Email"), validators=[at_most(_length("email"))],
                        render_kw={"autocomplete": "email", "type": "email"})
    fulfilment = RadioField(_l("How do you want to receive the order?"), choices=choices(FULFILMENT_LABELS),
                            default="pickup", validate_choice=False)
    pickup_point = RadioField(_l("Sales point"), choices=[], validate_choice=False)
    province_code = SelectField(_l("Province or city"), coerce=optional_int, validate_choice=False,
                                widget=LongSelect())
    ward_code = SelectField(_l("Commune or ward"), coerce=optional_int, validate_choice=False, widget=LongSelect())
    street = StringField(_l("House number and street"), validators=[at_most(_length("street"))],
                         render_kw={"autocomplete": "street-address"})
    payment_method = RadioField(_l("Payment"), choices=choices(PAYMENT_LABELS), validate_choice=False)
    age_confirmed = BooleanField(_l("I confirm that I am 18 or over."))
    # Without JavaScript, choosing another province needs a round trip to list its communes.
    refresh = SubmitField(_l("Show the communes of this province"))
    submit = SubmitField(_l("Place the order"))
