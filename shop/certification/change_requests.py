"""A certified product's name and group are what its certificate was granted for: a producer's change of them goes
to the trade department as a ProductChangeRequest instead of reaching the catalogue silently; every other field
applies at once. The department approves (the change is applied through catalog.services.update_product) or
rejects with a note. One pending request per product: a second change waits until the first is decided.
Services flush, never commit; queries at the end."""
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from shop.accounts.models import Role, User
from shop.catalog import services as catalog
from shop.catalog.groups import GROUPS, SUBGROUPS, group_of
from shop.catalog.models import Product
from shop.certification.models import ChangeRequestStatus, ProductChangeRequest
from shop.certification.queries import is_certified
from shop.core import audit_trail
from shop.core.clock import today
from shop.core.errors import Conflict, DomainError, NotAllowed
from shop.core.models import utcnow
from shop.core.text import nfc
from shop.extensions import db

# What the certificate names: a change of these waits for the department.
IDENTITY_FIELDS = ("name", "group_code", "subgroup_code")
DEPARTMENT_ROLES = frozenset({Role.ADMIN, Role.TRADE_OFFICER})


def _clean(value):
    if isinstance(value, str):
        value = (nfc(value) or "").strip()
        return value or None
    return value


def _identity_changes(product: Product, changes: dict) -> dict[str, list]:
    """{field: [current, proposed]} for the identity fields that really change, checked like the catalogue checks
    them (a request must be applicable when it is approved)."""
    proposed = {field: _clean(changes[field]) for field in IDENTITY_FIELDS if field in changes}
    if "name" in proposed and not proposed["name"]:
        raise DomainError(str(_l("The product name is required.")), field="name", code="name_required")
    group = proposed.get("group_code", product.group_code)
    subgroup = proposed.get("subgroup_code", product.subgroup_code)
    if group not in GROUPS:
        raise DomainError(str(_l("Unknown OCOP group.")), field="group_code", code="unknown_group")
    if subgroup is not None and (subgroup not in SUBGROUPS or group_of(subgroup) != group):
        raise DomainError(str(_l("The sub-group does not belong to the group.")), field="subgroup_code",
                          code="subgroup_mismatch")
    return {field: [getattr(product, field), value] for field, value in proposed.items()
            if getattr(product, field) != value}


def needs_approval(product: Product, day: date | None = None) -> bool:
    """True while a certificate of 3★ or more certifies the product."""
    return is_certified(product.id, day or today())


def request_or_apply(product: Product, changes: dict, actor) -> tuple[dict, ProductChangeRequest | None]:
    """Apply `changes` to the product, except a change of name or group of a certified product, which becomes a
    pending request for the trade department. Returns (the fields applied, the request or None). Refused while
    another request of the product is pending, if this one changes the name or group again."""
    if getattr(actor, "id", None) is None:
        raise NotAllowed(str(_l("Every change needs the person who made it.")), code="actor_required")
    identity = _identity_changes(product, changes)
    others = {field: value for field, value in changes.items() if field not in IDENTITY_FIELDS}
    request = None
    if identity and needs_approval(product):
        if pending_for(product.id) is not None:
            raise Conflict(str(_l("A change of name or group of this product is already waiting for the trade "
                                  "department's decision.")), field=next(iter(identity)), code="request_pending")
        request = ProductChangeRequest(product_id=product.id, changes=identity, status=ChangeRequestStatus.PENDING,
                                       requested_by_id=actor.id, requested_at=utcnow())
        db.session.add(request)
        db.session.flush()
        audit_trail.record("certification.change_requested", request, actor=actor, product_id=product.id,
                           fields=sorted(identity))
    else:
        others.update({field: proposed for field, (_current, proposed) in identity.items()})
    before = {field: getattr(product, field) for field in others}
    catalog.update_product(product, actor=actor, **others)
    applied = {field: getattr(product, field) for field in others if getattr(product, field) != before[field]}
    return applied, request


def _check_decider(request: ProductChangeRequest, actor) -> None:
    if getattr(actor, "role", None) not in DEPARTMENT_ROLES:
        raise NotAllowed(str(_l("Only the trade department decides on changes of certified products.")),
                         code="not_allowed")
    if request.status != ChangeRequestStatus.PENDING:
        raise Conflict(str(_l("This request has already been decided.")), field="note", code="already_decided")


def _decide(request: ProductChangeRequest, status: ChangeRequestStatus, actor, note: str | None) -> None:
    request.status = status
    request.decided_by_id = actor.id
    request.decided_at = utcnow()
    request.decision_note = note


def approve(request: ProductChangeRequest, actor, note: str | None = None) -> ProductChangeRequest:
    """The department accepts the change: it reaches the catalogue now."""
    _check_decider(request, actor)
    proposed = {field: values[1] for field, values in request.changes.items()}
    catalog.update_product(request.product, actor=actor, **proposed)
    _decide(request, ChangeRequestStatus.APPROVED, actor, _clean(note))
    db.session.flush()
    audit_trail.record("certification.change_approved", request, actor=actor, product_id=request.product_id)
    return request


def reject(request: ProductChangeRequest, actor, note: str) -> ProductChangeRequest:
    """The department refuses the change, saying why (the producer reads the note)."""
    _check_decider(request, actor)
    note = _clean(note)
    if not note:
        raise DomainError(str(_l("Say why the change is rejected.")), field="note", code="note_required")
    _decide(request, ChangeRequestStatus.REJECTED, actor, note)
    db.session.flush()
    audit_trail.record("certification.change_rejected", request, actor=actor, product_id=request.product_id)
    return request


# ------------------------------------------------------------------------------------------------- queries

def get(request_id: int) -> ProductChangeRequest | None:
    return db.session.get(ProductChangeRequest, request_id)


def pending_for(product_id: int) -> ProductChangeRequest | None:
    return db.session.scalar(sa.select(ProductChangeRequest).where(
        ProductChangeRequest.product_id == product_id, ProductChangeRequest.status == ChangeRequestStatus.PENDING)
        .order_by(ProductChangeRequest.id).limit(1))


def requests_of(product_id: int, limit: int = 20) -> list[ProductChangeRequest]:
    """A product's requests, the newest first (what its producer sees on the edit page)."""
    return list(db.session.scalars(sa.select(ProductChangeRequest)
                                   .where(ProductChangeRequest.product_id == product_id)
                                   .order_by(ProductChangeRequest.requested_at.desc(),
                                             ProductChangeRequest.id.desc()).limit(limit)))


def pending_requests() -> list[ProductChangeRequest]:
    """Waiting for a decision, the oldest first."""
    return list(db.session.scalars(sa.select(ProductChangeRequest)
                                   .where(ProductChangeRequest.status == ChangeRequestStatus.PENDING)
                                   .order_by(ProductChangeRequest.requested_at, ProductChangeRequest.id)))


def decided_requests(limit: int = 200) -> list[ProductChangeRequest]:
    """The history, the latest decision first."""
    return list(db.session.scalars(sa.select(ProductChangeRequest)
                                   .where(ProductChangeRequest.status != ChangeRequestStatus.PENDING)
                                   .order_by(ProductChangeRequest.decided_at.desc(), ProductChangeRequest.id.desc())
                                   .limit(limit)))


def people_of(requests: list[ProductChangeRequest]) -> dict[int, User]:
    """The accounts that asked and decided, by id."""
    ids = {r.requested_by_id for r in requests} | {r.decided_by_id for r in requests if r.decided_by_id}
    return {user.id: user for user in db.session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}
