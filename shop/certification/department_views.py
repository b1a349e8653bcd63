"""The trade department's record of qualifying bases other than a certificate (criteria P-02…P-04)."""
from flask import Blueprint

from shop.accounts.models import Role
from shop.accounts.permissions import area_guard

bp = Blueprint("certification_department", __name__)
bp.before_request(area_guard(Role.TRADE_OFFICER))
