"""Form pieces shared by every domain. WTForms has no Vietnamese catalogue, so validator messages are ours."""
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import DateField, HiddenField, IntegerField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import Select

from shop.core import once

REQUIRED = _l("Please fill in this field.")
MAX_QUANTITY = 1_000_000  # units in one receipt, lot, line or count: more is a typing mistake
MAX_WHOLE_NUMBER = 2_147_483_647  # what an Integer column holds: beyond it the database refuses (a 500)


def required() -> DataRequired:
    return DataRequired(REQUIRED)


def at_most(n: int) -> Length:
    return Length(max=n, message=_l("At most %(max)d characters."))


def between(low: int, high: int) -> Length:
    return Length(min=low, max=high, message=_l("Between %(min)d and %(max)d characters."))


def within(low: int, high: int):
    """A bound on a number field that stays quiet when the number could not be read (its parse error says why;
    WTForms' NumberRange would add a second message)."""
    message = _l("Enter a whole number from %(min)s to %(max)s.", min=low, max=high)

    def check(form, field):
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(message)

    return check


def quantity_range(low: int = 1):
    return within(low, MAX_QUANTITY)


class WholeNumberField(IntegerField):
    """An integer field whose parse error speaks the user's language; a number no Integer column holds is refused
    here, whatever the field's own bounds."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a whole number without dots or spaces, e.g. 150000.")) from None
        if self.data is not None and abs(self.data) > MAX_WHOLE_NUMBER:
            self.data = None
            raise ValueError(_l("This number is too large."))


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


class OnceKeyForm:
    """Mixin of every form that creates something with stock or money behind it: a one-time key rendered into the
    page (`{{ form.once_key }}`); the view hands it to `web.submit_creating_form`."""

    once_key = HiddenField(default=once.new_key)

    def posted_once_key(self) -> str | None:
        """The key the browser sent back (None when the post carried none, e.g. a script)."""
        raw = self.once_key.raw_data
        return raw[0] if raw else None
