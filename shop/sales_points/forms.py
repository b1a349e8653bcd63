"""Forms of the trade department's registry of sales points."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    FloatField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from shop.core import admin_units
from shop.core.forms import LocalDateField, WholeNumberField, at_most, required
from shop.sales_points.models import LocationType, OperatorKind, PointStatus, PointTier


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class DecimalNumberField(FloatField):
    """A float field whose parse error speaks the user's language."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            valuelist = [valuelist[0].strip().replace(",", ".")]
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a number, e.g. 10.9468.")) from None


class LocalTimeField(TimeField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a time such as 07:30.")) from None
        if self.data is None and valuelist and valuelist[0].strip():
            raise ValueError(_l("Enter a time such as 07:30."))


class PointForm(FlaskForm):
    code = StringField(_l("Code"), validators=[required(), at_most(20)])
    name = StringField(_l("Name"), validators=[required(), at_most(200)])
    tier = SelectField(_l("Tier"), choices=_choices(choice for choice in PointTier.choices()),
                       default=PointTier.POINT.value)
    location_types = SelectMultipleField(
        _l("Kinds of place (Decisions 920 and 950)"),
        choices=_choices(choice for choice in LocationType.choices()),
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    ward_code = SelectField(_l("Commune or ward"), coerce=int, validators=[Optional()])
    former_district = SelectField(_l("Former district (for history)"))
    street = StringField(_l("Street address"), validators=[at_most(200)])
    latitude = DecimalNumberField(_l("Latitude"), validators=[Optional()])
    longitude = DecimalNumberField(_l("Longitude"), validators=[Optional()])
    floor_area_m2 = WholeNumberField(_l("Floor area (m²)"), validators=[Optional()])
    opens_at = LocalTimeField(_l("Opens at"), validators=[Optional()])
    closes_at = LocalTimeField(_l("Closes at"), validators=[Optional()])
    phone = StringField(_l("Phone"), validators=[at_most(20)])
    operator_kind = SelectField(_l("Operator"), choices=_choices(
        [("", _l("Not recorded"))] + [choice for choice in OperatorKind.choices()]))
    operator_name = StringField(_l("Operator name"), validators=[at_most(200)])
    operator_registration_no = StringField(_l("Business registration number"), validators=[at_most(40)])
    opened_on = LocalDateField(_l("Opening date"), validators=[Optional()])

    def __init__(self, *args, province_code: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.ward_code.choices = _choices([(0, _l("Not recorded"))] + admin_units.wards(province_code))
        self.former_district.choices = _choices([("", _l("None"))] + list(admin_units.FORMER_DISTRICTS.items()))

    def values(self) -> dict:
        """The service's keyword arguments."""
        return {"code": self.code.data, "name": self.name.data, "tier": self.tier.data,
                "location_types": self.location_types.data or [], "ward_code": self.ward_code.data or None,
                "former_district": self.former_district.data or None, "street": self.street.data,
                "latitude": self.latitude.data, "longitude": self.longitude.data,
                "floor_area_m2": self.floor_area_m2.data, "opens_at": self.opens_at.data,
                "closes_at": self.closes_at.data, "phone": self.phone.data,
                "operator_kind": self.operator_kind.data or None, "operator_name": self.operator_name.data,
                "operator_registration_no": self.operator_registration_no.data, "opened_on": self.opened_on.data}


class StatusForm(FlaskForm):
    to_status = SelectField(_l("New status"), choices=_choices(choice for choice in PointStatus.choices()))
    reason = TextAreaField(_l("Reason"), validators=[required(), at_most(500)])


class ManagerForm(FlaskForm):
    email = StringField(_l("Email of a point manager account"), validators=[required(), at_most(254)])


PHOTO_EXTENSIONS = ["jpg", "jpeg", "png", "webp"]


class PhotoForm(FlaskForm):
    image = FileField(_l("Photo"), validators=[
        FileRequired(_l("Choose a photo to upload.")),
        FileAllowed(PHOTO_EXTENSIONS, _l("Only JPEG, PNG or WebP photos are accepted."))])
    alt = StringField(_l("Description of the photo (for people who cannot see it)"),
                      validators=[required(), at_most(200)])


class PhotoMoveForm(FlaskForm):
    direction = HiddenField(validators=[required()])

    def offset(self) -> int:
        return {"up": -1, "down": 1}.get(self.direction.data, 0)
