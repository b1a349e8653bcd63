"""Sales point use cases: the trade department's registry, status history, managers and photos."""
import re
from datetime import date, time
from io import BytesIO
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from shop.accounts.models import Role
from shop.accounts.services import get_user_by_email
from shop.catalog.models import Product
from shop.core import admin_units, audit_trail
from shop.core.errors import Conflict, DomainError
from shop.core.images import ImageRejected, delete_image, delete_image_after_commit, store_image
from shop.core.text import nfc
from shop.extensions import db
from shop.sales_points.models import (
    STATUS_TRANSITIONS,
    LocationType,
    OperatorKind,
    PointLocationType,
    PointManager,
    PointPhoto,
    PointProduct,
    PointStatus,
    PointStatusChange,
    PointTier,
    SalesPoint,
)

CODE_RE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
CODE_MAX = 20

# Fields update_point accepts; the status changes only through change_point_status (it keeps a history).
EDITABLE = frozenset({"code", "name", "tier", "province_code", "ward_code", "former_district", "street", "latitude",
                      "longitude", "opens_at", "closes_at", "phone", "floor_area_m2", "operator_name",
                      "operator_kind", "operator_registration_no", "opened_on", "location_types"})


def _clean_text(value: str | None) -> str | None:
    value = nfc((value or "").strip())
    return value or None


def _normalise(values: dict, point: SalesPoint | None) -> dict:
    """Check and normalise the registry fields; raise DomainError naming the first bad field."""
    out = dict(values)
    if "code" in out:
        code = (out["code"] or "").strip().upper()
        if not code:
            raise DomainError(str(_l("The point code is required.")), field="code")
        if len(code) > CODE_MAX or not CODE_RE.match(code):
            raise DomainError(str(_l("The code uses capital letters, digits and hyphens, like DN-XL-01.")),
                              field="code")
        clash = sa.select(SalesPoint.id).where(SalesPoint.code == code)
        if point is not None:
            clash = clash.where(SalesPoint.id != point.id)
        if db.session.scalar(clash) is not None:
            raise Conflict(str(_l("A sales point with this code already exists.")), field="code")
        out["code"] = code
    if "name" in out:
        out["name"] = _clean_text(out["name"])
        if not out["name"]:
            raise DomainError(str(_l("The name of the point is required.")), field="name")
    if "tier" in out:
        out["tier"] = PointTier(out["tier"])
    province = out.get("province_code", point.province_code if point else None)
    if "province_code" in out and not admin_units.province_name(province):
        raise DomainError(str(_l("Unknown province.")), field="province_code")
    ward = out.get("ward_code", point.ward_code if point else None)
    if ("ward_code" in out or "province_code" in out) and ward and not admin_units.ward_in_province(ward, province):
        raise DomainError(str(_l("This commune or ward is not in the chosen province.")), field="ward_code")
    if out.get("former_district") and out["former_district"] not in admin_units.FORMER_DISTRICTS:
        raise DomainError(str(_l("Unknown former district.")), field="former_district")
    if "former_district" in out:
        out["former_district"] = out["former_district"] or None
    for key in ("street", "phone", "operator_name", "operator_registration_no"):
        if key in out:
            out[key] = _clean_text(out[key])
    if out.get("latitude") is not None and not -90 <= out["latitude"] <= 90:
        raise DomainError(str(_l("The latitude must be between -90 and 90.")), field="latitude")
    if out.get("longitude") is not None and not -180 <= out["longitude"] <= 180:
        raise DomainError(str(_l("The longitude must be between -180 and 180.")), field="longitude")
    area = out.get("floor_area_m2")
    if area is not None and (isinstance(area, bool) or not isinstance(area, int) or area <= 0):
        raise DomainError(str(_l("The floor area is a whole number of square metres above zero.")),
                          field="floor_area_m2")
    opens = out.get("opens_at", point.opens_at if point else None)
    closes = out.get("closes_at", point.closes_at if point else None)
    if opens is not None and closes is not None and opens >= closes:
        raise DomainError(str(_l("The opening time must be before the closing time.")), field="closes_at")
    if out.get("operator_kind"):
        out["operator_kind"] = OperatorKind(out["operator_kind"])
    elif "operator_kind" in out:
        out["operator_kind"] = None
    if "location_types" in out:
        out["location_types"] = sorted({LocationType(kind) for kind in out["location_types"] or ()},
                                      key=list(LocationType).index)
    return out


def _set_location_types(point: SalesPoint, kinds: list[LocationType]) -> None:
    keep = [row for row in point.location_type_rows if row.location_type in kinds]
    have = {row.location_type for row in keep}
    point.location_type_rows = keep + [PointLocationType(location_type=kind) for kind in kinds if kind not in have]


def create_point(*, code: str, name: str, tier: PointTier | str = PointTier.POINT,
                 status: PointStatus | str = PointStatus.OPEN, province_code: int, ward_code: int | None = None,
                 former_district: str | None = None, street: str | None = None, latitude: float | None = None,
                 longitude: float | None = None, opens_at: time | None = None, closes_at: time | None = None,
                 phone: str | None = None, actor=None, location_types: list[LocationType | str] = (),
                 floor_area_m2: int | None = None, operator_name: str | None = None,
                 operator_kind: OperatorKind | str | None = None, operator_registration_no: str | None = None,
                 opened_on: date | None = None) -> SalesPoint:
    values = _normalise({
        "code": code, "name": name, "tier": tier, "province_code": province_code, "ward_code": ward_code,
        "former_district": former_district, "street": street, "latitude": latitude, "longitude": longitude,
        "opens_at": opens_at, "closes_at": closes_at, "phone": phone, "floor_area_m2": floor_area_m2,
        "operator_name": operator_name, "operator_kind": operator_kind,
        "operator_registration_no": operator_registration_no, "opened_on": opened_on,
        "location_types": location_types}, None)
    kinds = values.pop("location_types")
    point = SalesPoint(status=PointStatus(status), **values)
    _set_location_types(point, kinds)
    db.session.add(point)
    db.session.flush()
    audit_trail.record("sales_points.point_created", point, actor=actor, code=point.code)
    return point


def update_point(point: SalesPoint, actor, **fields) -> SalesPoint:
    unknown = set(fields) - EDITABLE
    if unknown:
        raise TypeError(f"update_point() cannot change {sorted(unknown)}")
    values = _normalise(fields, point)
    changed = {}
    if "location_types" in values:
        kinds = values.pop("location_types")
        if kinds != point.location_types:
            changed["location_types"] = [k.value for k in kinds]
            _set_location_types(point, kinds)
    for key, value in values.items():
        if getattr(point, key) != value:
            changed[key] = value
            setattr(point, key, value)
    db.session.flush()
    if changed:
        audit_trail.record("sales_points.point_updated", point, actor=actor, fields=sorted(changed))
    return point


def change_point_status(point: SalesPoint, to_status: PointStatus | str, reason: str, actor) -> PointStatusChange:
    to_status = PointStatus(to_status)
    reason = _clean_text(reason)
    if not reason:
        raise DomainError(str(_l("Give the reason for the change of status.")), field="reason")
    if len(reason) > 500:
        raise DomainError(str(_l("At most %(max)d characters.", max=500)), field="reason")
    from_status = point.status
    if to_status not in STATUS_TRANSITIONS[from_status]:
        if from_status == PointStatus.CLOSED:
            message = _l("A closed point cannot change status any more.")
        else:
            message = _l("A point cannot go from “%(from)s” to “%(to)s”.", **{
                "from": status_label(from_status), "to": status_label(to_status)})
        raise DomainError(str(message), field="to_status", code="invalid_transition")
    change = PointStatusChange(point=point, from_status=from_status, to_status=to_status, reason=reason,
                               actor_id=getattr(actor, "id", None))
    point.status = to_status
    db.session.add(change)
    db.session.flush()
    audit_trail.record("sales_points.status_changed", point, actor=actor, from_status=from_status,
                       to_status=to_status, reason=reason)
    return change


def status_label(status: PointStatus) -> str:
    return str({PointStatus.PLANNED: _l("Planned"), PointStatus.OPEN: _l("Open"),
                PointStatus.SUSPENDED: _l("Suspended"), PointStatus.CLOSED: _l("Closed")}[PointStatus(status)])


def carry_product(point: SalesPoint, product: Product, actor=None) -> PointProduct:
    existing = db.session.get(PointProduct, (point.id, product.id))
    if existing:
        return existing
    link = PointProduct(point=point, product=product)
    db.session.add(link)
    db.session.flush()
    audit_trail.record("sales_points.product_carried", point, actor=actor, product_id=product.id)
    return link


def assign_manager(point: SalesPoint, user, actor=None) -> PointManager:
    existing = db.session.get(PointManager, (user.id, point.id))
    if existing:
        return existing
    link = PointManager(user_id=user.id, point=point)
    db.session.add(link)
    db.session.flush()
    audit_trail.record("sales_points.manager_assigned", point, actor=actor, user_id=user.id)
    return link


def assign_manager_by_email(point: SalesPoint, email: str, actor=None) -> PointManager:
    """The department adds a manager by the email of an existing point-manager account."""
    user = get_user_by_email(email)
    if user is None:
        raise DomainError(str(_l("No account has this email address.")), field="email")
    if user.role != Role.POINT_MANAGER:
        raise DomainError(str(_l("This account is not a point manager account.")), field="email")
    if db.session.get(PointManager, (user.id, point.id)) is not None:
        raise Conflict(str(_l("This person already manages this point.")), field="email")
    return assign_manager(point, user, actor=actor)


def remove_manager(point: SalesPoint, user, actor=None) -> None:
    link = db.session.get(PointManager, (user.id, point.id))
    if link is None:
        raise DomainError(str(_l("This person does not manage this point.")), field="user")
    db.session.delete(link)
    db.session.flush()
    audit_trail.record("sales_points.manager_removed", point, actor=actor, user_id=user.id)


# --- photos ----------------------------------------------------------------------------------------------

PHOTO_ALT_MAX = 200
MAX_PHOTOS_PER_POINT = 30
DEFAULT_MAX_PHOTO_BYTES = 10 * 1024 * 1024
# store_image also takes GIF (product pages); a point's photos are photographs: JPEG, PNG or WebP only.
_PHOTO_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _photo_bytes(upload: bytes | BinaryIO) -> bytes:
    """The upload's bytes, refused before anything is written when too big or not JPEG, PNG or WebP."""
    data = upload if isinstance(upload, bytes) else upload.read()
    limit = current_app.config.get("MAX_POINT_PHOTO_BYTES", DEFAULT_MAX_PHOTO_BYTES)
    if len(data) > limit:
        raise ImageRejected(str(_l("The photo is too large; the limit is %(mb)s MB.", mb=round(limit / 2**20, 1))),
                            field="image", code="photo_too_large")
    is_webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if data and not is_webp and not data.startswith(_PHOTO_SIGNATURES):
        raise ImageRejected(str(_l("Only JPEG, PNG or WebP photos are accepted.")), field="image",
                            code="photo_format")
    return data


def add_point_photo(point: SalesPoint, upload: bytes | BinaryIO, *, alt: str, actor) -> PointPhoto:
    """Store a photo of the point (frontage, sign, shelves) as renditions without EXIF, last in the order."""
    alt = _clean_text(alt)
    if not alt:
        raise DomainError(str(_l("Describe what the photo shows.")), field="alt", code="alt_required")
    if len(alt) > PHOTO_ALT_MAX:
        raise DomainError(str(_l("At most %(max)d characters.", max=PHOTO_ALT_MAX)), field="alt")
    if len(point.photos) >= MAX_PHOTOS_PER_POINT:
        raise DomainError(str(_l("A point has at most %(n)s photos; remove one first.", n=MAX_PHOTOS_PER_POINT)),
                          field="image", code="too_many_photos")
    config = current_app.config
    stored = store_image(BytesIO(_photo_bytes(upload)), config["UPLOAD_DIR"], max_pixels=config["MAX_IMAGE_PIXELS"],
                         widths=config["IMAGE_WIDTHS"])
    photo = PointPhoto(stem=stored.stem, width=stored.width, height=stored.height, alt=alt,
                       position=max((p.position for p in point.photos), default=-1) + 1)
    point.photos.append(photo)
    try:
        db.session.flush()
    except Exception:
        delete_image(config["UPLOAD_DIR"], stored.stem)  # no row, so no orphan files either
        raise
    audit_trail.record("sales_points.photo_added", point, actor=actor, photo_id=photo.id, stem=photo.stem)
    return photo


def remove_point_photo(photo: PointPhoto, actor) -> None:
    """Delete the row now and the files once that is committed (a rollback leaves the photo intact)."""
    point, stem = photo.point, photo.stem
    point.photos.remove(photo)
    for position, remaining in enumerate(point.photos):
        remaining.position = position
    db.session.flush()
    audit_trail.record("sales_points.photo_removed", point, actor=actor, stem=stem)
    delete_image_after_commit(current_app.config["UPLOAD_DIR"], stem)


def move_point_photo(photo: PointPhoto, offset: int, actor) -> None:
    """Move a photo one place earlier (-1) or later (+1); the first photo is the point's cover."""
    photos = list(photo.point.photos)
    index = photos.index(photo)
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(photos):
        raise DomainError(str(_l("This photo cannot move further.")), field="image", code="invalid_move")
    photos[index], photos[target] = photos[target], photos[index]
    for position, each in enumerate(photos):
        each.position = position
    db.session.flush()
    db.session.refresh(photo.point, ["photos"])
    audit_trail.record("sales_points.photo_moved", photo.point, actor=actor, photo_id=photo.id, position=target)
