"""One-time keys: a creating form (checkout, a counter sale, a receipt, a refund, a transfer, a count, an
adjustment) carries a random key; the first post records it with what it created, in the same transaction, and
any later post with the same key (a double click, a retrying phone, the back button) gets the first result instead
of a second one. The key's row is written first, so two posts at the same instant queue on it: on PostgreSQL the
second INSERT waits for the first transaction and then fails on the unique key, on SQLite the write transaction
is taken before the key is looked up."""
import re
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shop.core.database import open_transaction
from shop.core.models import UTCDateTime, utcnow
from shop.core.state import insert_ignoring_duplicates
from shop.extensions import db

KEY_LENGTH = 64
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class OnceKey(db.Model):
    kind: Mapped[str] = mapped_column(sa.String(40), primary_key=True)  # "checkout", "counter_sale"…
    key: Mapped[str] = mapped_column(sa.String(KEY_LENGTH), primary_key=True)
    # Where the first result is shown (its page); filled in by `finish` in the same transaction.
    result_url: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)


def new_key() -> str:
    return secrets.token_urlsafe(24)


def is_key(value: str | None) -> bool:
    return bool(value) and KEY_PATTERN.match(value) is not None


def result_of(kind: str, key: str) -> str | None:
    """The page of what a committed post with this key created, or None."""
    return db.session.scalar(sa.select(OnceKey.result_url).where(OnceKey.kind == kind, OnceKey.key == key))


def begin(kind: str, key: str) -> str | None:
    """Record `key` for `kind` in the current transaction, or return the page of what an earlier post with the
    same key created (then the caller creates nothing)."""
    open_transaction()
    # One statement: a post running with the same key at the same instant makes this one wait for its commit
    # (PostgreSQL) or has already committed (SQLite's write lock); either way nothing is inserted here.
    inserted = insert_ignoring_duplicates(OnceKey, {"kind": kind, "key": key, "created_at": utcnow()},
                                          OnceKey.key).first()
    if inserted is None:
        return result_of(kind, key) or ""
    return None


def finish(kind: str, key: str, result_url: str) -> None:
    db.session.execute(sa.update(OnceKey).where(OnceKey.kind == kind, OnceKey.key == key)
                       .values(result_url=result_url).execution_options(synchronize_session=False))
