"""Forms and labels of the criteria pages (/department/criteria)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from shop.audit.criteria.services import PARAMS, default_params
from shop.audit.models import AutoCheck, CheckKind
from shop.core.forms import WholeNumberField, at_most, required

PARAM_LABELS = {"min_m2": _l("Minimum floor area (m²)"), "days": _l("Number of days")}
FIELD_LABELS = {"requirement_vi": _l("Requirement (Vietnamese)"), "requirement_en": _l("Requirement (English)"),
                "source": _l("Source"), "confirmed": _l("Confirmed from a source"), "binding": _l("Binding"),
                "check_kind": _l("Check kind"), "auto_check": _l("Automatic check"), "params": _l("Parameters"),
                "position": _l("Position"), "group": _l("Group")}


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class CriterionForm(FlaskForm):
    requirement_vi = TextAreaField(_l("Requirement (Vietnamese)"), validators=[required()])
    requirement_en = TextAreaField(_l("Requirement (English)"), validators=[required()])
    source = StringField(_l("Source"), validators=[required(), at_most(200)])
    confirmed = BooleanField(_l("Confirmed from a source (the official text was checked)"))
    binding = BooleanField(_l("Binding (unticked: advisory)"))
    check_kind = SelectField(_l("Check kind"),
                             choices=_choices(choice for choice in CheckKind.choices()))
    auto_check = SelectField(_l("Automatic check"), choices=_choices(
        [("", _l("None"))] + [choice for choice in AutoCheck.choices()]))
    min_m2 = WholeNumberField(PARAM_LABELS["min_m2"], validators=[Optional()])
    days = WholeNumberField(PARAM_LABELS["days"], validators=[Optional()])

    def param_fields(self, auto_check) -> list:
        """The parameter fields of an automatic check (shown on the page)."""
        return [getattr(self, name) for name in PARAMS.get(auto_check, {}) if hasattr(self, name)]

    def fill_params(self, params: dict) -> None:
        for name in ("min_m2", "days"):
            getattr(self, name).data = (params or {}).get(name)

    def values(self, current_auto_check) -> dict:
        """The service's keyword arguments. Parameters are those of the chosen automatic check: its fields when
        they were on the page (the criterion's check did not change), else its defaults."""
        auto_check = AutoCheck(self.auto_check.data) if self.auto_check.data else None
        params = default_params(auto_check)
        if auto_check == current_auto_check:
            params.update({field.name: field.data for field in self.param_fields(auto_check)})
        return {"requirement_vi": self.requirement_vi.data, "requirement_en": self.requirement_en.data,
                "source": self.source.data, "confirmed": self.confirmed.data, "binding": self.binding.data,
                "check_kind": self.check_kind.data, "auto_check": auto_check, "params": params}


class BindingForm(FlaskForm):
    binding = HiddenField()
