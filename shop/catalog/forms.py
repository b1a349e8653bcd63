from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import StringField, TextAreaField
from wtforms.validators import NumberRange, Optional

from shop.core.forms import WholeNumberField, at_most, required

IMAGE_EXTENSIONS = ["jpg", "jpeg", "png", "webp", "gif"]


class ProductImageForm(FlaskForm):
    image = FileField(_l("Photo"), validators=[
        FileRequired(_l("Choose a photo to upload.")),
        FileAllowed(IMAGE_EXTENSIONS, _l("Only JPEG, PNG, WebP or GIF images are accepted."))])
    alt = StringField(_l("Description of the photo (for people who cannot see it)"), validators=[at_most(200)])


class ProductEditForm(FlaskForm):
    description = TextAreaField(_l("Description"), validators=[at_most(5000)])
    story_md = TextAreaField(_l("Product story (Markdown)"), validators=[at_most(20000)])
    price_vnd = WholeNumberField(_l("Price (đồng)"), validators=[
        required(), NumberRange(min=0, max=1_000_000_000, message=_l("Between %(min)s and %(max)s."))])
    unit = StringField(_l("Unit or pack size"), validators=[at_most(60)])
    gtin = StringField(_l("GTIN (barcode number)"), validators=[Optional(), at_most(14)])
