"""The period form of the reports page (a GET form: no CSRF token, nothing changes)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from shop.core.clock import today
from shop.core.forms import LocalDateField, WholeNumberField

KIND_CHOICES = [SelectChoice("quarter", _l("Quarter")), SelectChoice("half", _l("Half-year")),
                SelectChoice("year", _l("Year")), SelectChoice("range", _l("From a date to a date"))]
QUARTER_CHOICES = [SelectChoice(str(n), _l("Quarter %(n)s", n=n)) for n in (1, 2, 3, 4)]
HALF_CHOICES = [SelectChoice("1", _l("First half (January–June)")),
                SelectChoice("2", _l("Second half (July–December)"))]


class ReportPeriodForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectField(_l("Period"), choices=KIND_CHOICES, default="quarter")
    year = WholeNumberField(_l("Year"), validators=[Optional(), NumberRange(
        min=2000, max=2100, message=_l("Give a year between 2000 and 2100."))])
    quarter = SelectField(_l("Quarter"), choices=QUARTER_CHOICES, default="1")
    half = SelectField(_l("Half-year"), choices=HALF_CHOICES, default="1")
    start = LocalDateField(_l("From"), validators=[Optional()])
    end = LocalDateField(_l("To (included)"), validators=[Optional()])

    @classmethod
    def with_defaults(cls, formdata):
        """The current quarter when the page is opened without a choice."""
        day = today()
        return cls(formdata=formdata or None, data={"kind": "quarter", "year": day.year,
                                                    "quarter": str((day.month - 1) // 3 + 1),
                                                    "half": "1" if day.month <= 6 else "2"})
