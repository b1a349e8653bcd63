from datetime import date, datetime, time

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Product
from shop.core.enums import LabelledEnum
from shop.core.models import TimestampMixin, UTCDateTime, enum_column, utcnow
from shop.extensions import db


class PointTier(LabelledEnum):
    CENTRE = "centre", _l("Provincial OCOP centre")  # provincial OCOP centre
    POINT = "point", _l("Introduction and sales point")  # introduction-and-sales point


class PointStatus(LabelledEnum):
    PLANNED = "planned", _l("Planned")
    OPEN = "open", _l("Open")
    SUSPENDED = "suspended", _l("Suspended")
    CLOSED = "closed", _l("Closed")


class LocationType(LabelledEnum):
    """The kinds of place of Decisions 920 and 950 (criteria L-01…L-08, ocop-rules.md section 9)."""

    # L-01
    STATION_AIRPORT_PORT = "station_airport_port", _l("Station, airport, bus station or port")
    # L-02
    HIGHWAY_REST_STOP = "highway_rest_stop", _l("Expressway or highway station or rest stop")
    # L-03
    SHOPPING_CENTRE_MARKET = "shopping_centre_market", _l("Shopping centre, supermarket or market")
    # L-04
    TOURIST_RESTAURANT_HOTEL = "tourist_restaurant_hotel", _l("Tourist area, restaurant or hotel")
    # L-05 (950 widens it to all craft villages)
    CRAFT_VILLAGE = "craft_village", _l("Craft village or traditional craft village")
    # L-06
    COMMERCIAL_CENTRE_INDUSTRIAL = "commercial_centre_industrial", _l("Commercial service centre or industrial zone")
    # L-07
    FAIR_EXHIBITION = "fair_exhibition", _l("Fair, exhibition or product showcase centre")
    # L-08, only under 950
    POST_OFFICE = "post_office", _l("Post office or commune cultural post office (Decision 950)")


class OperatorKind(LabelledEnum):
    ORGANISATION = "organisation", _l("Organisation")
    PERSON = "person", _l("Person")


# Allowed status changes; closed is final.
STATUS_TRANSITIONS: dict[PointStatus, frozenset[PointStatus]] = {
    PointStatus.PLANNED: frozenset({PointStatus.OPEN, PointStatus.CLOSED}),
    PointStatus.OPEN: frozenset({PointStatus.SUSPENDED, PointStatus.CLOSED}),
    PointStatus.SUSPENDED: frozenset({PointStatus.OPEN, PointStatus.CLOSED}),
    PointStatus.CLOSED: frozenset(),
}


class SalesPoint(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)  # e.g. DN-XL-01
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    tier: Mapped[PointTier] = enum_column(PointTier, nullable=False, default=PointTier.POINT)
    status: Mapped[PointStatus] = enum_column(PointStatus, nullable=False, default=PointStatus.PLANNED)
    province_code: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    ward_code: Mapped[int | None] = mapped_column(sa.Integer)
    former_district: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    street: Mapped[str | None] = mapped_column(sa.String(200))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    opens_at: Mapped[time | None] = mapped_column(sa.Time)
    closes_at: Mapped[time | None] = mapped_column(sa.Time)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    floor_area_m2: Mapped[int | None] = mapped_column(sa.Integer)
    operator_name: Mapped[str | None] = mapped_column(sa.String(200))
    operator_kind: Mapped[OperatorKind | None] = enum_column(OperatorKind)
    operator_registration_no: Mapped[str | None] = mapped_column(sa.String(40))
    opened_on: Mapped[date | None] = mapped_column(sa.Date)

    products: Mapped[list["PointProduct"]] = relationship(back_populates="point", cascade="all, delete-orphan")
    location_type_rows: Mapped[list["PointLocationType"]] = relationship(
        back_populates="point", cascade="all, delete-orphan", order_by="PointLocationType.location_type")
    photos: Mapped[list["PointPhoto"]] = relationship(back_populates="point", cascade="all, delete-orphan",
                                                     order_by="(PointPhoto.position, PointPhoto.id)")
    status_changes: Mapped[list["PointStatusChange"]] = relationship(
        back_populates="point", cascade="all, delete-orphan",
        order_by="(PointStatusChange.changed_at.desc(), PointStatusChange.id.desc())")

    __table_args__ = (sa.CheckConstraint("floor_area_m2 IS NULL OR floor_area_m2 > 0", name="floor_area_positive"),)

    @property
    def location_types(self) -> list[LocationType]:
        """In the order of the criteria, L-01 first."""
        order = list(LocationType)
        return sorted((row.location_type for row in self.location_type_rows), key=order.index)

    @property
    def is_open(self) -> bool:
        return self.status == PointStatus.OPEN

    def __repr__(self) -> str:
        return f"<SalesPoint {self.code}>"


class PointProduct(db.Model):
    """The assortment: a product this point carries (stock levels come with the inventory domain)."""

    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    # Below this many available units the manager is alerted; None: the configured default.
    low_stock_threshold: Mapped[int | None] = mapped_column(sa.Integer)
    point: Mapped[SalesPoint] = relationship(back_populates="products")
    product: Mapped[Product] = relationship()

    __table_args__ = (sa.CheckConstraint("low_stock_threshold IS NULL OR low_stock_threshold >= 0",
                                         name="low_stock_threshold_not_negative"),)


class PointManager(db.Model):
    """A point manager may manage one or more points."""

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id", ondelete="CASCADE"), primary_key=True,
                                          index=True)
    point: Mapped[SalesPoint] = relationship()


class PointLocationType(db.Model):
    """One kind of place (L-01…L-08) a point stands at; a point may have several."""

    __tablename__ = "point_location_type"
    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id", ondelete="CASCADE"), primary_key=True)
    location_type: Mapped[LocationType] = enum_column(LocationType, primary_key=True)
    point: Mapped[SalesPoint] = relationship(back_populates="location_type_rows")


def _status_type(name: str) -> sa.Enum:
    # Like enum_column, but each column needs its own CHECK constraint name within the table.
    return sa.Enum(PointStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e],
                   create_constraint=True, name=name, validate_strings=True)


class PointStatusChange(db.Model):
    """History of a point's status (criterion M-05 needs the opening and closing dates)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    from_status: Mapped[PointStatus] = mapped_column(_status_type("from_status"), nullable=False)
    to_status: Mapped[PointStatus] = mapped_column(_status_type("to_status"), nullable=False)
    reason: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    # No foreign key: the history outlives the accounts that wrote it (like the audit trail).
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    point: Mapped[SalesPoint] = relationship(back_populates="status_changes")


class PointPhoto(db.Model):
    """A photo of the point (frontage, signage, shelves); files are renditions under UPLOAD_DIR named by `stem`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    stem: Mapped[str] = mapped_column(sa.String(80), nullable=False, unique=True)
    width: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    height: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    alt: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    point: Mapped[SalesPoint] = relationship(back_populates="photos")
