"""Forms of the trade department's register of qualifying bases (criteria P-02…P-04 of Decision 950)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from shop.certification.models import BASIS_CRITERION_CODES, BasisCriterion
from shop.core.clock import today
from shop.core.forms import LocalDateField, at_most, required

BASIS_STATUS_LABELS = {"valid": _l("Valid"), "not_yet_valid": _l("Not yet valid"), "expired": _l("Expired"),
                       "revoked": _l("Revoked")}


def _product_id(value) -> int:
    """The posted product id, 0 when missing or not a number (the required check then speaks)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class BasisForm(FlaskForm):
    product = SelectField(_l("Product"), coerce=_product_id, validators=[required()])
    criterion = SelectField(_l("Criterion"), validators=[required()], choices=[
        SelectChoice("", _l("Choose the criterion")),
        *(SelectChoice(c.value, f"{BASIS_CRITERION_CODES[c]} · {label}")
          for c, label in BasisCriterion.labels().items())])
    reference = StringField(_l("Reference (list, record or decision number)"), validators=[required(), at_most(120)])
    justification = TextAreaField(_l("Justification"), validators=[required(), at_most(2000)])
    valid_from = LocalDateField(_l("Valid from"), validators=[Optional()], default=today)
    valid_until = LocalDateField(_l("Valid until (leave empty: until revoked)"), validators=[Optional()])

    def set_products(self, candidates) -> None:
        """`candidates`: (product, stars or None) pairs; the certified ones say so, a basis adds little to them."""
        self.product.choices = [SelectChoice("", _l("Choose a product"))] + [
            SelectChoice(product.id, _product_label(product, stars)) for product, stars in candidates]


def _product_label(product, stars: int | None) -> str:
    label = f"{product.name} · {product.producer.name}"
    return label if stars is None else str(_l("%(label)s (certified %(stars)s★)", label=label, stars=stars))


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason for revoking"), validators=[required(), at_most(500)])
