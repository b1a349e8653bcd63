"""The provincial programme's targets (Decision 1698/QĐ-UBND) and the metrics that measure them from the data.

A target (audit.models.ProgrammeTarget) names a metric of METRICS and a period. The metric is computed over the
target's period, up to today while the period runs. Some targets (training, projects) are not about data the
shop holds: their metrics are "manual" and show no computed value.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from shop.audit.models import ProgrammeTarget
from shop.catalog.models import Product
from shop.certification.models import MIN_CERTIFIED_STARS, Certificate, IssuingLevel
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.extensions import db
from shop.producers.models import LegalForm, Producer
from shop.sales_points.models import PointStatus, PointTier, SalesPoint

COUNT, PERCENT = "count", "percent"


@dataclass(frozen=True)
class Metric:
    key: str
    label: object          # lazy string
    definition: object     # lazy string: how it is computed
    unit: str = COUNT
    compute: Callable[[date, date], int] | None = None  # None: not measured from the shop's data

    @property
    def measured(self) -> bool:
        return self.compute is not None


def _products_with(start: date, end: date, *conditions) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Certificate.product_id)))
        .where(Certificate.decision_date >= start, Certificate.decision_date <= end, *conditions)) or 0


def certified_products(start: date, end: date) -> int:
    return _products_with(start, end, Certificate.stars >= MIN_CERTIFIED_STARS)


def certified_4plus(start: date, end: date) -> int:
    return _products_with(start, end, Certificate.stars >= 4)


def stars5_province(start: date, end: date) -> int:
    return _products_with(start, end, Certificate.stars == 5, Certificate.level != IssuingLevel.CENTRAL)


def stars5_central(start: date, end: date) -> int:
    return _products_with(start, end, Certificate.stars == 5, Certificate.level == IssuingLevel.CENTRAL)


def new_certified_products(start: date, end: date) -> int:
    firsts = (sa.select(Certificate.product_id, sa.func.min(Certificate.decision_date).label("first_date"))
              .where(Certificate.stars >= MIN_CERTIFIED_STARS).group_by(Certificate.product_id).subquery())
    return db.session.scalar(sa.select(sa.func.count()).select_from(firsts)
                             .where(firsts.c.first_date >= start, firsts.c.first_date <= end)) or 0


def new_producers(start: date, end: date) -> int:
    firsts = (sa.select(Product.producer_id, sa.func.min(Certificate.decision_date).label("first_date"))
              .join(Product, Product.id == Certificate.product_id).group_by(Product.producer_id).subquery())
    return db.session.scalar(sa.select(sa.func.count()).select_from(firsts)
                             .where(firsts.c.first_date >= start, firsts.c.first_date <= end)) or 0


def cooperatives_certified(start: date, end: date) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Product.producer_id)))
        .join(Certificate, Certificate.product_id == Product.id)
        .join(Producer, Producer.id == Product.producer_id)
        .where(Certificate.decision_date >= start, Certificate.decision_date <= end,
               Certificate.stars >= MIN_CERTIFIED_STARS, Producer.legal_form == LegalForm.COOPERATIVE)) or 0


def _open_points(tier: PointTier, end: date) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(SalesPoint)
        .where(SalesPoint.tier == tier, SalesPoint.status == PointStatus.OPEN,
               sa.or_(SalesPoint.opened_on.is_(None), SalesPoint.opened_on <= end))) or 0


def points_open(start: date, end: date) -> int:
    return _open_points(PointTier.POINT, end)


def centres_open(start: date, end: date) -> int:
    return _open_points(PointTier.CENTRE, end)


METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("certified_products", _l("Products certified 3★ or more"),
           _l("Products with a certificate of 3★ or more decided in the target's period (a product rated several "
              "times counts once)."), compute=certified_products),
    Metric("certified_4plus", _l("Products certified 4★ or more"),
           _l("Products with a certificate of 4★ or more decided in the target's period."), compute=certified_4plus),
    Metric("stars5_province", _l("5★ products recognised by the province"),
           _l("Products with a 5★ certificate of provincial (or district) level decided in the period."),
           compute=stars5_province),
    Metric("stars5_central", _l("5★ products recognised at national level"),
           _l("Products with a 5★ certificate of central level decided in the period."), compute=stars5_central),
    Metric("new_certified_products", _l("New products certified 3★ or more"),
           _l("Products whose first certificate of 3★ or more ever was decided in the period."),
           compute=new_certified_products),
    Metric("new_producers", _l("New economic entities"),
           _l("Producers whose first certificate ever was decided in the period."), compute=new_producers),
    Metric("cooperatives_certified", _l("Cooperatives with a certified product"),
           _l("Cooperatives with a certificate of 3★ or more decided in the period."), compute=cooperatives_certified),
    Metric("points_open", _l("Open OCOP introduction-and-sales points"),
           _l("Points (tier point) open now that opened before the period's end (or have no opening date)."),
           compute=points_open),
    Metric("centres_open", _l("Open provincial OCOP centres"),
           _l("Centres (tier centre) open now that opened before the period's end (or have no opening date)."),
           compute=centres_open),
    Metric("manual_count", _l("Not measured by the shop"),
           _l("Reported from the programme's own records (projects, start-ups)."), COUNT),
    Metric("manual_percent", _l("Not measured by the shop"),
           _l("Reported from the programme's own records (training, consolidation)."), PERCENT),
)}


class TargetError(DomainError):
    code = "bad_target"


@dataclass(frozen=True)
class Progress:
    target: ProgrammeTarget
    metric: Metric
    value: int | None        # None: not measured
    measured_until: date

    @property
    def percent(self) -> int | None:
        if self.value is None:
            return None
        if not self.target.target_value:
            return 100
        return round(100 * self.value / self.target.target_value)

    @property
    def reached(self) -> bool:
        return self.value is not None and self.value >= self.target.target_value

    @property
    def status(self) -> str:
        """reached, running (period not over), missed, not_measured"""
        if self.value is None:
            return "not_measured"
        if self.reached:
            return "reached"
        return "running" if self.measured_until < self.target.period_end else "missed"


def all_targets() -> list[ProgrammeTarget]:
    return list(db.session.scalars(sa.select(ProgrammeTarget).order_by(ProgrammeTarget.period_start,
                                                                         ProgrammeTarget.code)))


def progress_of(target: ProgrammeTarget, day: date | None = None) -> Progress:
    metric = METRICS.get(target.metric)
    if metric is None:
        raise TargetError(str(_l("Unknown metric %(metric)s.", metric=target.metric)), field="metric")
    until = min(target.period_end, day or today())
    value = metric.compute(target.period_start, until) if metric.measured and until >= target.period_start else \
        (0 if metric.measured else None)
    return Progress(target, metric, value, until)


def progress(day: date | None = None) -> list[Progress]:
    return [progress_of(target, day) for target in all_targets()]


def upsert_target(*, code: str, programme: str, period_start: date, period_end: date, metric: str,
                  target_value: int, description_vi: str, description_en: str, source: str | None = None
                  ) -> tuple[ProgrammeTarget, bool]:
    """Create the target, or update the one with that code. Returns (target, created). Flushes."""
    if metric not in METRICS:
        raise TargetError(str(_l("Unknown metric %(metric)s.", metric=metric)), field="metric")
    if period_end < period_start:
        raise TargetError(str(_l("The start of the period is after its end.")), field="period_end")
    if target_value < 0:
        raise TargetError(str(_l("A target cannot be negative.")), field="target_value")
    target = db.session.scalar(sa.select(ProgrammeTarget).where(ProgrammeTarget.code == code))
    created = target is None
    if created:
        target = ProgrammeTarget(code=code)
        db.session.add(target)
    target.programme, target.period_start, target.period_end = programme, period_start, period_end
    target.metric, target.target_value = metric, target_value
    target.description_vi, target.description_en, target.source = description_vi, description_en, source
    db.session.flush()
    return target, created
