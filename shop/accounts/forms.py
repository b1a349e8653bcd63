from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import Email, EqualTo

from shop.core.forms import at_most, between, required


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[required(), Email(_l("Enter a valid email address."),
                                                                  check_deliverability=False)])
    password = PasswordField(_l("Password"), validators=[required()])
    remember = BooleanField(_l("Keep me logged in"))


class RegisterForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[required(), at_most(120)])
    email = EmailField(_l("Email"), validators=[required(), Email(_l("Enter a valid email address."),
                                                                  check_deliverability=False), at_most(254)])
    password = PasswordField(_l("Password"), validators=[required(), between(8, 128)])
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[required(), EqualTo("password", message=_l("The passwords differ."))])
