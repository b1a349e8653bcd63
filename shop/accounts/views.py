from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from shop.accounts import services
from shop.accounts.forms import LoginForm, RegisterForm
from shop.core.errors import DomainError
from shop.core.text import nfc
from shop.core.unit_of_work import unit_of_work
from shop.extensions import limiter
from shop.web import safe_local_path

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _posted_account() -> str:
    """The limiter's key for the account tried: many addresses guessing one password share it (an empty field
    counts per address)."""
    return "login-account:" + ((nfc(request.form.get("email")) or "").lower() or f"none@{request.remote_addr}")


def _safe_next(target: str | None) -> str:
    return safe_local_path(target, url_for("catalog.home"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_posted_account, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():  # logging in joins the guest's cart to the stored one: in the same transaction
                user = services.authenticate(form.email.data, form.password.data)
                login_user(user, remember=form.remember.data)
        except DomainError as error:
            (getattr(form, error.field or "", None) or form.password).errors.append(error.message)
        else:
            flash(_("Welcome back, %(name)s.", name=user.full_name or user.email), "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), 200 if request.method == "GET" or not form.errors else 400


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("catalog.home"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("catalog.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                user = services.register_customer(form.email.data, form.password.data, form.full_name.data)
                login_user(user)
        except DomainError as error:
            getattr(form, error.field or "email").errors.append(error.message)
        else:
            flash(_("Your account is ready."), "success")
            return redirect(url_for("catalog.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/")
@login_required
def profile():
    return render_template("accounts/profile.html")
