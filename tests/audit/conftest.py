"""Shared fixtures of the audit tests (small on purpose: each test file adds its own)."""
import pytest

from shop.accounts.models import Role
from shop.audit.criteria.services import get_set_by_code, load_criteria_sets
from tests.factories import make_user

SET_920, SET_950 = "920/QĐ-BCT", "950/QĐ-BCT"


@pytest.fixture
def criteria_sets(app_ctx):
    """Both sets of seed/criteria.json, loaded: {"920": CriteriaSet, "950": CriteriaSet}."""
    load_criteria_sets()
    return {"920": get_set_by_code(SET_920), "950": get_set_by_code(SET_950)}


@pytest.fixture
def officer(app_ctx):
    return make_user(Role.TRADE_OFFICER, email="officer@example.vn", full_name="Trần Thị Cán Bộ")


def criterion(criteria_set, code):
    return next(c for c in criteria_set.criteria if c.code == code)
