"""The one transaction boundary: what a block does is kept once it succeeds, and nothing of it after an error."""
import click
import pytest
import sqlalchemy as sa

from shop.accounts.models import Role, User
from shop.core.errors import DomainError
from shop.core.unit_of_work import command_unit, unit_of_work
from shop.extensions import db
from tests.factories import make_user


def _emails() -> set[str]:
    db.session.rollback()  # read what is committed, not what this session holds
    return set(db.session.scalars(sa.select(User.email)))


def test_a_block_that_succeeds_is_committed(app_ctx):
    with unit_of_work():
        make_user(Role.CUSTOMER, email="kept@example.vn")
    assert "kept@example.vn" in _emails()


def test_a_refusal_rolls_everything_back_and_is_raised(app_ctx):
    with pytest.raises(DomainError):
        with unit_of_work():
            make_user(Role.CUSTOMER, email="lost@example.vn")
            raise DomainError("refused", code="refused")
    assert "lost@example.vn" not in _emails()


def test_a_block_that_decides_not_to_keep_its_work_leaves_nothing(app_ctx):
    with unit_of_work() as unit:
        make_user(Role.CUSTOMER, email="dry-run@example.vn")
        unit.keep = False
    assert "dry-run@example.vn" not in _emails()


def test_a_command_turns_a_refusal_into_its_error_message(app_ctx):
    with pytest.raises(click.ClickException) as error:
        with command_unit():
            make_user(Role.CUSTOMER, email="cli@example.vn")
            raise DomainError("Không có điểm bán này.", code="unknown_point")
    assert error.value.message == "Không có điểm bán này." and error.value.exit_code == 1
    assert "cli@example.vn" not in _emails()
