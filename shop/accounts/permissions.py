"""Role checks for views. Object scope (which point, which producer) lives in each domain's queries."""
from functools import wraps

from flask import abort
from flask_login import current_user

from shop.accounts.models import Role


def role_required(*roles: Role):
    """Logged in and one of the roles (admins pass everywhere)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from shop.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role != Role.ADMIN and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def area_guard(*roles: Role):
    """A before_request hook for a whole back-office blueprint, so no route can forget its check."""

    def guard():
        if not current_user.is_authenticated:
            from shop.extensions import login_manager

            return login_manager.unauthorized()
        if current_user.role != Role.ADMIN and current_user.role not in roles:
            abort(403)
        return None

    return guard
