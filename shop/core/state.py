"""Compare-and-set: the one way a status (or a guarded number) moves. One conditional UPDATE carries the value the
caller decided on in its WHERE clause; exactly one affected row means this transaction made the move, none means
another request (a double click, a second manager, the webhook, a job) got there first and nothing happens here.
The UPDATE takes the row's write lock (PostgreSQL: the row; SQLite: the database), so the stock and money the
caller moves next, in the same transaction, can only move once."""
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

from shop.core.errors import DomainError
from shop.extensions import db


def insert_ignoring_duplicates(model, values: dict, *returning) -> sa.Result:
    """INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite): two transactions creating the same row at once
    both succeed, and the row is created once. With `returning` columns, the result has a row only when this
    statement inserted."""
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[db.session.get_bind().dialect.name]
    statement = insert(model).values(**values).on_conflict_do_nothing()
    return db.session.execute(statement.returning(*returning) if returning else statement)


def compare_and_set(row, conflict: DomainError, *, expected: Mapping[str, Any], **values) -> None:
    """UPDATE row's table SET values WHERE id = row.id AND every column of `expected` still holds its value (a
    tuple or set means any of those); raise `conflict` unless exactly one row changed. Plain values are written
    back to the loaded object as committed (no second UPDATE at flush); SQL expressions are expired and read again
    when next used."""
    model = type(row)
    where = [model.id == row.id]
    for name, value in expected.items():
        column = getattr(model, name)
        if isinstance(value, (tuple, set, frozenset, list)):
            where.append(column.in_(list(value)))
        elif value is None:
            where.append(column.is_(None))
        else:
            where.append(column == value)
    moved = db.session.execute(sa.update(model).where(*where).values(**values)
                               .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        db.session.expire(row)  # what the caller read is stale: whoever shows it next reads it again
        raise conflict
    expressions = []
    for name, value in values.items():
        if isinstance(value, sa.sql.ClauseElement):
            expressions.append(name)
        else:
            set_committed_value(row, name, value)
    if expressions:
        db.session.expire(row, expressions)


def bounded_increment(row, column: str, amount: int, conflict: DomainError, *, at_most, where=(),
                      **values) -> None:
    """`column = column + amount` only while the result stays within `at_most` (a column or a number) and the extra
    `where` conditions hold: money and counts never go past their bound, whatever the other requests do."""
    model = type(row)
    target = getattr(model, column)
    moved = db.session.execute(
        sa.update(model).where(model.id == row.id, target + amount <= at_most, target + amount >= 0, *where)
        .values({column: target + amount, **values}).execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        db.session.expire(row)
        raise conflict
    db.session.expire(row, [column, *values])
