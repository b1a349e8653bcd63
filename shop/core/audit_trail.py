"""Append-only record of who changed what, written by services in the same transaction as the change."""
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shop.core.models import UTCDateTime, utcnow
from shop.extensions import db


class AuditEntry(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    # No foreign key: the trail outlives the rows it speaks of, and core imports no domain.
    actor_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    action: Mapped[str] = mapped_column(sa.String(80), nullable=False, index=True)
    subject_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    subject_id: Mapped[int | None] = mapped_column(sa.Integer)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict, nullable=False)

    __table_args__ = (sa.Index("ix_audit_entry_subject", "subject_type", "subject_id"),)


def record(action: str, subject: Any, actor: Any = None, **data: Any) -> AuditEntry:
    """`record("catalog.product_published", product, actor=user, price_vnd=150000)`."""
    entry = AuditEntry(
        action=action,
        subject_type=type(subject).__name__,
        subject_id=getattr(subject, "id", None),
        actor_id=getattr(actor, "id", None),
        data={key: _plain(value) for key, value in data.items()},
    )
    db.session.add(entry)
    return entry


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)
