"""Form pieces shared by every domain. WTForms has no Vietnamese catalogue, so validator messages are ours."""
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import DateField, IntegerField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import Select

REQUIRED = _l("Please fill in this field.")


def required() -> DataRequired:
    return DataRequired(REQUIRED)


def at_most(n: int) -> Length:
    return Length(max=n, message=_l("At most %(max)d characters."))


def between(low: int, high: int) -> Length:
    return Length(min=low, max=high, message=_l("Between %(min)d and %(max)d characters."))


class WholeNumberField(IntegerField):
    """An integer field whose parse error speaks the user's language."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a whole number without dots or spaces, e.g. 150000.")) from None


class LocalDateField(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date.")) from None
        if self.data is None and valuelist and valuelist[0].strip():
            raise ValueError(_l("Enter a date."))


class LongSelect(Select):
    """A <select> for long fixed lists (provinces, communes): the same HTML as WTForms' widget, with the options
    written by one f-string each instead of WTForms' per-option attribute handling (a list of a hundred communes
    otherwise costs milliseconds on every page view)."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if choice.render_kw or kwargs:
            return super().render_option(choice, **kwargs)
        selected = " selected" if choice.selected else ""
        return Markup(f'<option{selected} value="{escape(choice.value)}">{escape(choice.label or choice.value)}'
                      f"</option>")
