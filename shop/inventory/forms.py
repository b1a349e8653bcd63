"""Forms of a sales point's stock pages: receipts, adjustments, counts, the ledger filter and transfers.
Forms only parse and check the shape of the input; the services decide what is allowed."""
from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional, ValidationError
from wtforms.widgets import html_params

from shop.core.forms import (
    MAX_QUANTITY,
    REQUIRED,
    OnceKeyForm,
    WholeNumberField,
    at_most,
    quantity_range,
    required,
    within,
)
from shop.inventory.models import AdjustmentReason, MovementKind
from shop.sales_points.forms import LocalDateField

TRANSFER_LINE_ROWS = 6  # blank rows of the transfer form; a longer transfer is entered as two


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def at_least(low: int, message):
    """A bound that stays quiet when the number could not be read (the parse error already says why)."""

    def check(form, field):
        if field.data is not None and field.data < low:
            raise ValidationError(message)

    return check


def not_zero(form, field):
    if field.data == 0:
        raise ValidationError(_l("The change must be a whole number other than zero."))


def whole_number(label, *, low: int | None = None, message=None, optional: bool = False,
                 bounds=None) -> WholeNumberField:
    checks = [Optional() if optional else InputRequired(REQUIRED)]
    if low is not None:
        checks.append(at_least(low, message))
    if bounds is not None:
        checks.append(bounds)
    return WholeNumberField(label, validators=checks)


POSITIVE = _l("The quantity must be a whole number greater than zero.")
NOT_NEGATIVE = _l("Enter zero or more.")


class SharedChoices(list):
    """Choices offered by several <select>s of one form (every line row of a transfer offers the same lots, and
    a point may hold thousands): their <option> HTML is built once, not once per row."""

    _html: str | None = None

    def options_html(self) -> str:
        if self._html is None:
            self._html = "".join(f'<option value="{escape(choice.value)}">{escape(choice.label)}</option>'
                                 for choice in self)
        return self._html


def shared_options_select(field, **kwargs) -> Markup:
    """The <select> widget of a field whose choices are SharedChoices: the cached options, the chosen one
    marked selected."""
    kwargs.setdefault("id", field.id)
    options = field.choices.options_html()
    if field.data is not None:
        chosen = f'<option value="{escape(field.data)}">'
        options = options.replace(chosen, chosen[:-1] + " selected>", 1)
    return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


def _id_choices(placeholder, pairs) -> SharedChoices:
    """Choices of an IdSelectField: the empty placeholder option, then (id, label) pairs."""
    return SharedChoices(_choices([("", placeholder)] + list(pairs)))


def _id_or_none(value) -> int | None:
    """An id from a <select>; the empty "choose…" option is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return int(value)


class IdSelectField(SelectField):
    """A <select> of database ids. Membership is not checked here: the view looks the id up within the point of
    the URL (another point's id is a 404) and the service gives the reason when it refuses."""

    widget = staticmethod(shared_options_select)

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=_id_or_none, validate_choice=False, **kwargs)

    def process_formdata(self, valuelist):
        try:
            self.data = _id_or_none(valuelist[0]) if valuelist else None
        except ValueError:
            self.data = None

    def pre_validate(self, form):
        if self.data is None and self.raw_data and self.raw_data[0].strip():
            raise ValidationError(_l("Choose one of the options."))


class FormProblems:
    """Where a refusal that belongs to no single input is shown: above the form. It has the `errors` list that
    shop.web.submit_form writes to, so a form names it as the field of such refusals."""

    def __init__(self):
        self.errors: list[str] = []


class ReceiptForm(OnceKeyForm, FlaskForm):
    product = IdSelectField(_l("Product"), validators=[InputRequired(REQUIRED)])
    lot_code = StringField(_l("Lot code"), validators=[required(), at_most(60)])
    production_date = LocalDateField(_l("Production date"), validators=[InputRequired(REQUIRED)])
    expiry_date = LocalDateField(_l("Expiry date"), validators=[Optional()])
    quantity = whole_number(_l("Quantity"), low=1, message=POSITIVE, bounds=quantity_range(1))
    unit_cost_vnd = whole_number(_l("Unit cost (₫)"), low=0, message=_l("The unit cost must be zero or more."))
    delivery_note = StringField(_l("Delivery note number"), validators=[required(), at_most(60)])

    def __init__(self, *args, products: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.product.choices = _id_choices(_l("Choose a product"), products)


class AdjustmentForm(OnceKeyForm, FlaskForm):
    level = IdSelectField(_l("Product and lot"), validators=[InputRequired(REQUIRED)])
    delta = WholeNumberField(_l("Change (+ found, − removed)"),
                             validators=[InputRequired(REQUIRED), not_zero, within(-MAX_QUANTITY, MAX_QUANTITY)])
    reason = SelectField(_l("Reason"), validators=[required()], choices=_choices(
        [("", _l("Choose a reason"))] + [choice for choice in AdjustmentReason.choices()]))
    note = TextAreaField(_l("Note"), validators=[at_most(500)])

    def __init__(self, *args, levels: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.level.choices = _id_choices(_l("Choose a product and lot"), levels)


def count_field_name(level_id: int) -> str:
    return f"counted_{level_id}"


class CountForm(OnceKeyForm, FlaskForm):
    """The count sheet: one optional input `counted_<level id>` per line (blank = not counted). The inputs are
    read here rather than declared as WTForms fields, because a sheet may have thousands of lines. `sheet`
    carries the system quantities the sheet was printed with ("level:qty,…"), so a count is never applied to
    stock that moved after the sheet was made."""

    sheet = HiddenField()
    note = TextAreaField(_l("Note"), validators=[at_most(500)])

    def __init__(self, *args, level_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.counts = FormProblems()
        self.raw_counts: dict[int, str] = {}
        self.line_errors: dict[int, str] = {}
        posted = request.form if self.is_submitted() else {}
        for level_id in level_ids:
            raw = (posted.get(count_field_name(level_id)) or "").strip()
            if raw:
                self.raw_counts[level_id] = raw
                if not (raw.isascii() and raw.isdigit()):
                    self.line_errors[level_id] = _l("Enter a whole number, zero or more.")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.line_errors:
            self.counts.errors.append(_l("Some counted quantities are not whole numbers: see the marked lines."))
        return valid and not self.line_errors

    def printed_quantities(self) -> dict[int, int]:
        quantities = {}
        for pair in (self.sheet.data or "").split(","):
            level_id, _, quantity = pair.partition(":")
            if level_id.isdigit() and quantity.isdigit():
                quantities[int(level_id)] = int(quantity)
        return quantities

    def counted(self) -> dict[int, int]:
        """level id → counted quantity, only the lines filled in."""
        return {level_id: int(raw) for level_id, raw in self.raw_counts.items() if level_id not in self.line_errors}


class LedgerFilterForm(FlaskForm):
    """The ledger's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), validate_choice=False, choices=_choices(
        [("", _l("All kinds"))] + [choice for choice in MovementKind.choices()]))
    q = StringField(_l("Product or lot"), validators=[at_most(100)])
    date_from = LocalDateField(_l("From"), validators=[Optional()])
    date_to = LocalDateField(_l("To"), validators=[Optional()])


def line_field_names(n: int) -> tuple[str, str]:
    return f"level_{n}", f"quantity_{n}"


class TransferForm(OnceKeyForm, FlaskForm):
    """The destination and up to TRANSFER_LINE_ROWS rows of (stock level, quantity); blank rows are ignored."""

    to_point = IdSelectField(_l("Destination"), validators=[InputRequired(REQUIRED)])
    note = TextAreaField(_l("Note"), validators=[at_most(500)])

    def __init__(self, *args, destinations: list[tuple[int, str]], levels: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.to_point.choices = _id_choices(_l("Choose a sales point"), destinations)
        shared = _id_choices(_l("No line"), levels)
        for level, _quantity in self.rows():
            level.choices = shared
        self.lines = FormProblems()

    def rows(self):
        return [tuple(self[name] for name in line_field_names(n)) for n in range(1, TRANSFER_LINE_ROWS + 1)]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for level, quantity in self.rows():
            if level.data is not None and quantity.data is None and not quantity.errors:
                quantity.errors.append(_l("Give the quantity of this line."))
                valid = False
            if level.data is None and quantity.data is not None:
                level.errors.append(_l("Choose the product and lot of this line."))
                valid = False
        if valid and not self.filled_lines():
            self.lines.errors.append(_l("Add at least one line."))
            valid = False
        return valid

    def filled_lines(self) -> list[tuple[int, int]]:
        """(level id, quantity) of the rows filled in."""
        return [(level.data, quantity.data) for level, quantity in self.rows() if level.data is not None]


for _n in range(1, TRANSFER_LINE_ROWS + 1):
    _level, _quantity = line_field_names(_n)
    setattr(TransferForm, _level, IdSelectField(_l("Product and lot, line %(n)s", n=_n)))
    setattr(TransferForm, _quantity, whole_number(_l("Quantity, line %(n)s", n=_n), low=1, message=POSITIVE,
                                                  optional=True))


class TransferActionForm(FlaskForm):
    """Ship or cancel: a button and the CSRF token. Refusals are shown above the transfer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status = self.lines = self.to_point = FormProblems()


def receive_field_names(line_id: int) -> tuple[str, str, str]:
    return f"accepted_{line_id}", f"rejected_{line_id}", f"reason_{line_id}"


class ReceiveForm(FlaskForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status = self.accepted = self.rejection_reason = FormProblems()

    def decisions(self, line_ids) -> dict[int, tuple[int, int, str | None]]:
        """line id → (accepted, rejected, reason), what receive_transfer takes."""
        decided = {}
        for line_id in line_ids:
            accepted, rejected, reason = (self[name] for name in receive_field_names(line_id))
            decided[line_id] = (accepted.data, rejected.data, reason.data or None)
        return decided


def receive_form_for(lines, *args, **kwargs) -> ReceiveForm:
    """One row per transfer line: accepted (all shipped units by default), rejected and the reason."""

    class LinesForm(ReceiveForm):
        pass

    for line in lines:
        accepted, rejected, reason = receive_field_names(line.id)
        setattr(LinesForm, accepted, WholeNumberField(_l("Accepted"), default=line.quantity_shipped, validators=[
            InputRequired(REQUIRED), at_least(0, NOT_NEGATIVE), quantity_range(0)]))
        setattr(LinesForm, rejected, WholeNumberField(_l("Rejected"), default=0, validators=[
            InputRequired(REQUIRED), at_least(0, NOT_NEGATIVE), quantity_range(0)]))
        setattr(LinesForm, reason, StringField(_l("Reason for rejecting"), validators=[at_most(200)]))
    return LinesForm(*args, **kwargs)
