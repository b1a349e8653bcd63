"""Evidence for a criterion of a point: a photo (signage, frontage, shelves) or a document (lease, host letter),
uploaded by an officer or submitted by the point's manager. Matched to criteria by code, so one photo of the sign
serves every set and every re-audit. A photo's time and GPS position are read from its EXIF before the metadata is
stripped, and kept as facts shown to officers."""
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from shop.audit.models import Audit, AuditStatus, Criterion, Evidence, EvidenceKind
from shop.core import audit_trail
from shop.core.errors import Conflict, DomainError
from shop.core.text import nfc
from shop.core.uploads import attachment_path, store_attachment
from shop.extensions import db

EVIDENCE_SUBDIR = "evidence"
TITLE_MAX = 200


@dataclass(frozen=True)
class Upload:
    """An uploaded file as the service needs it (werkzeug's FileStorage has the same two attributes)."""
    stream: BinaryIO
    filename: str | None


def known_criterion_code(code: str) -> bool:
    return db.session.scalar(sa.select(Criterion.id).where(Criterion.code == code).limit(1)) is not None


def add_evidence(point, criterion_code: str, upload, title: str, actor, *, upload_dir: str | Path,
                 audit: Audit | None = None, submitted_by_manager: bool = False) -> Evidence:
    """Store one photo or PDF as evidence of `criterion_code` at `point`. Everything is checked before the file is
    written: an unknown code, an empty title, another point's or a concluded audit, or a file that is not a PDF or an
    image (empty, too large) is refused and nothing is stored."""
    code = (criterion_code or "").strip()
    if not code or not known_criterion_code(code):
        raise DomainError(str(_l("Choose a criterion of one of the criteria sets.")), field="criterion_code",
                          code="unknown_criterion")
    title = nfc((title or "").strip())
    if not title:
        raise DomainError(str(_l("Say what the file shows, e.g. “The sign seen from the street”.")), field="title",
                          code="title_required")
    if len(title) > TITLE_MAX:
        raise DomainError(str(_l("At most %(max)d characters.", max=TITLE_MAX)), field="title", code="title_long")
    if audit is not None:
        if audit.point_id != point.id:
            raise DomainError(str(_l("This audit is of another sales point.")), field="file", code="other_point")
        if audit.status == AuditStatus.CONCLUDED:
            raise Conflict(str(_l("This audit is concluded and cannot be changed. Start a re-audit to correct it.")),
                           field="file", code="audit_concluded")
    stored = store_attachment(upload.stream, upload.filename, upload_dir, EVIDENCE_SUBDIR, field="file")
    facts = stored.facts
    evidence = Evidence(point_id=point.id, criterion_code=code, audit_id=audit.id if audit else None,
                        kind=EvidenceKind(stored.kind), title=title, original_name=stored.original_name,
                        stored_name=stored.stored_name, content_type=stored.content_type,
                        size_bytes=stored.size_bytes, taken_at=facts.taken_at if facts else None,
                        latitude=facts.latitude if facts else None, longitude=facts.longitude if facts else None,
                        submitted_by_manager=submitted_by_manager, uploaded_by_id=actor.id)
    db.session.add(evidence)
    db.session.flush()
    audit_trail.record("audit.evidence_added", evidence, actor=actor, point=point.code, criterion=code,
                       kind=stored.kind, sha256=stored.sha256, audit=audit.id if audit else None,
                       submitted_by_manager=submitted_by_manager)
    return evidence


def evidence_file(evidence: Evidence, upload_dir: str | Path) -> Path:
    """Where the stored file of a piece of evidence is."""
    return attachment_path(upload_dir, EVIDENCE_SUBDIR, evidence.stored_name)
