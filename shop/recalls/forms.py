from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from shop.core.forms import LongSelect, at_most, required


class RecallForm(FlaskForm):
    """A producer recalls one of its lots: the lot is in the URL, the reason is asked."""

    reason = TextAreaField(_l("Reason for the recall"), validators=[required(), at_most(2000)])


class DepartmentRecallForm(FlaskForm):
    """The trade department names the lot by the trace code on its pack, or by product and lot code."""

    trace_code = StringField(_l("Trace code (on the pack, under the QR code)"), validators=[at_most(16)])
    product_id = SelectField(_l("or: the product"), coerce=int, widget=LongSelect(), validate_choice=False)
    lot_code = StringField(_l("and its lot code"), validators=[at_most(60)])
    reason = TextAreaField(_l("Reason for the recall"), validators=[required(), at_most(2000)])

    def __init__(self, *args, products: list[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.product_id.choices = [(0, _l("Choose a product"))] + list(products)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not (self.trace_code.data or "").strip() and not (
                self.product_id.data and (self.lot_code.data or "").strip()):
            self.trace_code.errors = [*self.trace_code.errors,
                                      _l("Give the trace code, or choose the product and give the lot code.")]
            return False
        return valid
