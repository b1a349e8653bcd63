"""Forms of the counter: a sale (repeated product_id + quantity pairs, a payment method) and a customer return."""
from dataclasses import dataclass
from itertools import zip_longest

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from stdnum import ean
from wtforms import BooleanField, Field, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional, ValidationError

from shop.core.forms import MAX_QUANTITY, OnceKeyForm, WholeNumberField, at_most, required
from shop.inventory.models import PaymentMethod

MAX_LINES = 200  # far beyond a real basket; keeps a forged post from building a huge query
GTIN_LENGTHS = (8, 12, 13, 14)  # EAN-8, UPC-A, EAN-13, GTIN-14: what a barcode scanner types


def gtin_of(query: str) -> str | None:
    """The query when it is a barcode number (digits only, a GTIN length), else None (a name to search)."""
    query = query.strip()
    return query if query.isdigit() and len(query) in GTIN_LENGTHS else None


def gtin_is_valid(gtin: str) -> bool:
    return ean.is_valid(gtin)


def whole_number(text) -> int | None:
    text = (text or "").strip()
    # ASCII digits only: no sign, no dot, no "1e3", no "²" (isdigit alone accepts it, then int() fails); at most
    # MAX_QUANTITY's digits, so a pasted 10**30 is a form message, not a 500.
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_QUANTITY)):
        return None
    return int(text)


@dataclass(frozen=True)
class RawLine:
    """One line as typed: both parts kept as text so a refused form shows exactly what was sent."""
    product_id: str
    quantity: str


def raw_lines(formdata) -> list[RawLine]:
    return [RawLine(str(p).strip(), str(q).strip())
            for p, q in zip_longest(formdata.getlist("product_id"), formdata.getlist("quantity"), fillvalue="")]


def merged_lines(lines: list[RawLine]) -> list[tuple[int, int]]:
    """(product id, quantity) of the well-formed lines, one per product in first-seen order (a product scanned
    twice is one line of two). For GET pages, where a bad pair in the URL is simply left out."""
    merged: dict[int, int] = {}
    for line in lines:
        product_id, quantity = whole_number(line.product_id), whole_number(line.quantity)
        if product_id and quantity:
            merged[product_id] = merged.get(product_id, 0) + quantity
    return list(merged.items())


class MessagesField(Field):
    """A place for messages about the lines as a whole (the service names field "lines"); the template shows
    them next to the lines table, whose id is the field's id."""

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.raw_data = []
        self.data = None


class SaleLinesField(MessagesField):
    """The repeated `product_id` + `quantity` pairs of the counter form; data = [(product_id, quantity)]."""

    def process(self, formdata, data=None, extra_filters=None):
        super().process(formdata)
        self.raw = raw_lines(formdata) if formdata is not None else []
        self.data = []

    def pre_validate(self, form):
        if len(self.raw) > MAX_LINES:
            raise ValidationError(_l("At most %(n)s lines per sale.", n=MAX_LINES))
        lines = []
        for line in self.raw:
            product_id, quantity = whole_number(line.product_id), whole_number(line.quantity)
            if not product_id:
                raise ValidationError(_l("A line names no known product. Scan or search it again."))
            if not quantity or quantity > MAX_QUANTITY:
                raise ValidationError(_l("Enter a whole number from %(min)s to %(max)s.", min=1, max=MAX_QUANTITY))
            lines.append((product_id, quantity))
        self.data = lines


class CounterSaleForm(OnceKeyForm, FlaskForm):
    lines = SaleLinesField(_l("Lines of the sale"))
    payment_method = RadioField(_l("Payment"), choices=[SelectChoice(*choice) for choice in PaymentMethod.choices()],
                                default=PaymentMethod.CASH.value, validators=[required()])


class ReturnForm(OnceKeyForm, FlaskForm):
    """Built per sale by return_form_for: one quantity field per line of the receipt, named line_<id>."""

    lines = MessagesField(_l("Returned goods"))
    reason = TextAreaField(_l("Reason for the return"), validators=[required(), at_most(500)])
    restock = BooleanField(_l("The goods can be sold again: put them back on the shelf"), default=True)

    def line_fields(self):
        return [field for field in self if field.name.startswith("line_")]

    def quantities(self) -> dict[int, int]:
        return {int(field.name.removeprefix("line_")): field.data or 0 for field in self.line_fields()}


def return_form_for(sale) -> ReturnForm:
    class SaleReturnForm(ReturnForm):
        pass

    for line in sale.lines:
        left = line.quantity - line.quantity_returned
        message = _l("Between 0 and %(max)s (sold and not yet returned).", max=left)
        field = WholeNumberField(f"{line.product_name} · {line.lot_code}", default=0,
                                 validators=[Optional(), NumberRange(min=0, max=left, message=message)])
        setattr(SaleReturnForm, f"line_{line.id}", field)
    return SaleReturnForm()
