"""Account use cases. They flush; the caller commits."""
import hashlib
import secrets

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from shop.accounts.models import ApiToken, Role, User
from shop.core import audit_trail
from shop.core.errors import Conflict, DomainError
from shop.core.models import utcnow
from shop.core.text import nfc
from shop.extensions import db, login_manager

MIN_PASSWORD_LENGTH = 8


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401


class DemoAccountRefused(DomainError):
    code = "demo_account"
    status = 403


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id))
        return user if user and user.is_active and not demo_refused(user.email) else None

    @login_manager.request_loader
    def load_user_from_token(req) -> User | None:
        # Only the JSON API takes bearer tokens; pages use the session cookie (and CSRF).
        header = req.headers.get("Authorization", "")
        if not req.path.startswith("/api/") or not header.lower().startswith("bearer "):
            return None
        return user_for_api_token(header[7:].strip())


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def demo_refused(email: str | None) -> bool:
    """A demo account (its password is published) in production: never logged in, even if a database seeded
    for a demonstration was carried over."""
    domain = current_app.config["DEMO_EMAIL_DOMAIN"]
    return (current_app.config["SHOP_ENV"] == "production" and bool(domain)
            and normalise_email(email or "").endswith("@" + domain.lower()))


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def create_user(email: str, password: str, *, role: Role = Role.CUSTOMER, full_name: str = "",
                phone: str | None = None, actor: User | None = None) -> User:
    email = normalise_email(email)
    if not email or "@" not in email:
        raise DomainError(str(_l("Enter a valid email address.")), field="email")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(str(_l("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)),
                          field="password")
    if current_app.config["SHOP_ENV"] == "production" and password == current_app.config["DEMO_PASSWORD"]:
        raise DomainError(str(_l("The demo password cannot be used in production.")), field="password")
    if get_user_by_email(email) is not None:
        raise Conflict(str(_l("An account with this email already exists.")), field="email")
    user = User(email=email, password_hash=hash_password(password), role=Role(role),
                full_name=nfc(full_name) or "", phone=phone)
    db.session.add(user)
    db.session.flush()
    audit_trail.record("accounts.user_created", user, actor=actor, role=user.role.value)
    return user


def register_customer(email: str, password: str, full_name: str) -> User:
    return create_user(email, password, role=Role.CUSTOMER, full_name=full_name)


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


# A real hash of a random string: checking it takes as long as checking a real account's password,
# so the response time does not tell whether an email is registered.
_DUMMY_HASH: dict[str, str] = {}


def authenticate(email: str, password: str) -> User:
    """The same error for an unknown email, a wrong password and a disabled account."""
    if demo_refused(email):  # the demo domain is public: saying so tells nothing about real accounts
        raise DemoAccountRefused(str(_l("Demo accounts cannot log in on the live site. Use your own account.")),
                                 field="email")
    user = get_user_by_email(email)
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if user is None:
        dummy = _DUMMY_HASH.setdefault(method, generate_password_hash("not-a-password", method=method))
        check_password_hash(dummy, password or "")
        raise InvalidCredentials(str(_l("Wrong email or password.")))
    if not check_password_hash(user.password_hash, password or "") or not user.is_active:
        raise InvalidCredentials(str(_l("Wrong email or password.")))
    user.last_login_at = utcnow()
    return user


def set_password(user: User, password: str, actor: User | None = None) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(str(_l("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)),
                          field="password")
    user.password_hash = hash_password(password)
    audit_trail.record("accounts.password_changed", user, actor=actor)




# --- API tokens ------------------------------------------------------------------------------------------------

TOKEN_PREFIX = "ocop_"


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(user: User, name: str, actor: User | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it with its secret, which is not stored and cannot be shown again."""
    name = (nfc(name) or "").strip()
    if not name:
        raise DomainError(str(_l("Give the token a name (what it is for).")), field="name", code="name_required")
    if not user.is_active:
        raise DomainError(str(_l("This account is disabled.")), field="email", code="account_disabled")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name[:80], token_hash=_token_hash(secret), created_at=utcnow())
    db.session.add(token)
    db.session.flush()
    audit_trail.record("accounts.api_token_created", token, actor=actor or user, user_id=user.id, name=token.name)
    return token, secret


def user_for_api_token(secret: str) -> User | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _token_hash(secret),
                                                        ApiToken.revoked_at.is_(None)))
    if token is None:
        return None
    user = db.session.get(User, token.user_id)
    return user if user and user.is_active and not demo_refused(user.email) else None


def revoke_api_token(token: ApiToken, actor: User | None = None) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit_trail.record("accounts.api_token_revoked", token, actor=actor)


def api_tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))
