"""Forms of the producer portal: a new lot, its status, and a journal entry with its inputs and files."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from shop.core import admin_units
from shop.core.clock import VN_TZ
from shop.core.forms import LocalDateField, WholeNumberField, at_most, quantity_range, required
from shop.traceability.models import PRODUCER_EVENT_TYPES, LotStatus

INPUT_ROWS = 5
ATTACHMENT_ROWS = 3


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class LotForm(FlaskForm):
    product_id = SelectField(_l("Product"), coerce=int, validators=[required()])
    lot_code = StringField(_l("Lot code"), validators=[required(), at_most(60)])
    production_date = LocalDateField(_l("Production date"), validators=[required()])
    expiry_date = LocalDateField(_l("Expiry or best-before date"), validators=[Optional()])
    quantity = WholeNumberField(_l("Quantity made (units)"), validators=[required(), quantity_range(1)])
    status = SelectField(_l("Status"), choices=choices(choice for choice in LotStatus.choices()),
                         default=LotStatus.IN_PRODUCTION.value)
    note = TextAreaField(_l("Note"), validators=[at_most(2000)])


class LotStatusForm(FlaskForm):
    status = SelectField(_l("New status"), choices=choices(choice for choice in LotStatus.choices()))


class InputRowForm(Form):
    """One input row (a sub-form: the CSRF token is the event form's)."""

    material = StringField(_l("Material"), validators=[at_most(200)])
    supplier = StringField(_l("Supplier"), validators=[at_most(200)])
    origin = StringField(_l("Origin"), validators=[at_most(300)])
    quantity = StringField(_l("Quantity"), validators=[at_most(20)])
    unit = StringField(_l("Unit"), validators=[at_most(20)])
    supplier_lot = StringField(_l("Supplier's lot"), validators=[at_most(60)])

    def is_blank(self) -> bool:
        return not any((field.data or "").strip() for field in self)

    def values(self) -> dict:
        return {field.short_name: field.data for field in self}


class AttachmentRowForm(Form):
    file = FileField(_l("File"))
    title = StringField(_l("Title"), validators=[at_most(200)])


class EventForm(FlaskForm):
    event_type = SelectField(_l("Step"), choices=choices((t.value, t.label) for t in PRODUCER_EVENT_TYPES))
    occurred_at = DateTimeLocalField(_l("Date and time"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                     validators=[required()])
    place = StringField(_l("Place (address)"), validators=[at_most(300)])
    ward_code = SelectField(_l("Commune or ward"), coerce=int, validators=[Optional()])
    actor_name = StringField(_l("Who did it"), validators=[required(), at_most(200)])
    previous_step = StringField(_l("One step back: where it came from"), validators=[at_most(300)])
    next_step = StringField(_l("One step forward: where it goes"), validators=[at_most(300)])
    description = TextAreaField(_l("Description"), validators=[at_most(4000)])
    corrects = HiddenField()
    inputs = FieldList(FormField(InputRowForm), min_entries=INPUT_ROWS, max_entries=INPUT_ROWS)
    attachments = FieldList(FormField(AttachmentRowForm), min_entries=ATTACHMENT_ROWS, max_entries=ATTACHMENT_ROWS)

    def __init__(self, *args, province_code: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.province_code = province_code
        self.ward_code.choices = choices([(0, _l("Not given"))] + admin_units.wards(province_code))

    def occurred_at_aware(self) -> datetime | None:
        """The local (Vietnamese) time typed in, as an aware datetime."""
        value = self.occurred_at.data
        return value.replace(tzinfo=VN_TZ) if value is not None else None

    def corrects_id(self) -> int | None:
        value = (self.corrects.data or "").strip()
        return int(value) if value.isdigit() else None

    def input_rows(self) -> list[dict]:
        return [row.form.values() for row in self.inputs if not row.form.is_blank()]

    def files(self) -> list[tuple]:
        """(stream, filename, title) of every file chosen."""
        chosen = []
        for row in self.attachments:
            upload = row.form.file.data
            if upload is not None and getattr(upload, "filename", None):
                chosen.append((upload.stream, upload.filename, row.form.title.data or ""))
        return chosen

    def values(self) -> dict:
        """The keyword arguments of traceability.services.record_event (except the lot, files and actor)."""
        ward = self.ward_code.data or None
        return {"event_type": self.event_type.data, "occurred_at": self.occurred_at_aware(),
                "place": self.place.data, "province_code": self.province_code if ward else None,
                "ward_code": ward, "actor_name": self.actor_name.data, "previous_step": self.previous_step.data,
                "next_step": self.next_step.data, "description": self.description.data,
                "inputs": self.input_rows(), "corrects": self.corrects_id()}
