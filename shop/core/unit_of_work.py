"""The one transaction boundary. A view, a command, a webhook or a job runs its work inside `unit_of_work()`: the
session commits once when the block succeeds and rolls back on any error, so a half-done change is never kept.
Services only flush; this module is the one place that commits (tests/test_architecture.py checks it)."""
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import click
from flask_babel import force_locale

from shop.core.errors import DomainError
from shop.extensions import db


@dataclass
class Unit:
    keep: bool = True  # False at the end of the block: rolled back although it succeeded (a dry run)


@contextmanager
def unit_of_work(*, keep: bool = True) -> Iterator[Unit]:
    """Commit when the block succeeds; roll back and re-raise on any error (a refusal included). A block that
    decides only at its end whether its work is kept (a dry run, a file with errors) sets `unit.keep`."""
    unit = Unit(keep)
    try:
        yield unit
    except BaseException:
        db.session.rollback()
        raise
    if unit.keep:
        db.session.commit()
    else:
        db.session.rollback()


def roll_back() -> None:
    """End a unit of work that must not be kept (a refused request that goes on to render a page)."""
    db.session.rollback()


@contextmanager
def command_unit(*, keep: bool = True) -> Iterator[Unit]:
    """A command's unit of work: messages in English, and a refusal becomes the command's error message and exit
    status 1 (click.ClickException), after the rollback."""
    try:
        with force_locale("en"), unit_of_work(keep=keep) as unit:
            yield unit
    except DomainError as error:
        raise click.ClickException(error.message) from error
