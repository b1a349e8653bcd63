"""Forms of the certificates registry: record one certificate, withdraw or downgrade one, upload an import."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from shop.certification.imports import EXTENSIONS
from shop.certification.models import IssuingLevel
from shop.core.clock import today
from shop.core.forms import LocalDateField, LongSelect, WholeNumberField, at_most, required

STATUS_LABELS = {"valid": _l("Valid"), "expiring": _l("Expiring within 90 days"), "expired": _l("Expired"),
                 "withdrawn": _l("Withdrawn"), "superseded": _l("Superseded"), "not_yet_valid": _l("Not yet valid")}
STAR_CHOICES = [SelectChoice("", _l("Choose the stars"))] + [SelectChoice(n, f"{n}★") for n in range(1, 6)]


def _whole(value) -> int:
    """The posted number, 0 when missing or not a number (the required check then speaks)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _level_choices():
    return [SelectChoice("", _l("Choose the level"))] + [SelectChoice(*choice) for choice in IssuingLevel.choices()]


class CertificateForm(FlaskForm):
    product = SelectField(_l("Product"), coerce=_whole, validators=[required()], widget=LongSelect())
    stars = SelectField(_l("Stars"), coerce=_whole, choices=STAR_CHOICES, validators=[required()])
    score = WholeNumberField(_l("Score (0–100)"), validators=[Optional(), NumberRange(0, 100, _l(
        "The score must be between 0 and 100."))])
    level = SelectField(_l("Issuing level"), choices=_level_choices, validators=[required()])
    decision_no = StringField(_l("Decision number"), validators=[required(), at_most(60)])
    decision_date = LocalDateField(_l("Decision date"), validators=[required()])
    valid_until = LocalDateField(_l("Valid until (leave empty: 36 months after the decision)"),
                                 validators=[Optional()])

    def set_products(self, products) -> None:
        self.product.choices = [SelectChoice("", _l("Choose a product"))] + [
            SelectChoice(product.id, f"{product.name} · {product.producer.name}") for product in products]


class WithdrawForm(FlaskForm):
    decision_no = StringField(_l("Withdrawal decision number"), validators=[required(), at_most(60)])
    reason = TextAreaField(_l("Reason"), validators=[required(), at_most(1000)])
    on = LocalDateField(_l("Withdrawn from"), validators=[Optional()], default=today)


class DowngradeForm(FlaskForm):
    stars = SelectField(_l("New stars"), coerce=_whole, choices=STAR_CHOICES, validators=[required()])
    score = WholeNumberField(_l("New score (0–100)"), validators=[Optional(), NumberRange(0, 100, _l(
        "The score must be between 0 and 100."))])
    decision_no = StringField(_l("Downgrade decision number"), validators=[required(), at_most(60)])
    reason = TextAreaField(_l("Reason"), validators=[required(), at_most(1000)])
    on = LocalDateField(_l("Downgraded from"), validators=[Optional()], default=today)


class ImportForm(FlaskForm):
    file = FileField(_l("File (.xlsx or .csv)"), validators=[
        FileRequired(_l("Choose a file to upload.")),
        FileAllowed(list(EXTENSIONS), _l("Upload a .csv or .xlsx file."))])
