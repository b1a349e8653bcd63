"""The automatic checks of the criteria, computed from live data (ocop-rules.md section 9, "AUTO").

`check_points(points, criteria_set, day)` runs every automatic check of the set for many points with a few
set-based queries per batch of points (never a query per point); `run_checks(point, …)` is the same for one.
Each result is an Outcome and a JSON-safe detail: figures, and the offenders (products, lots) when it fails.

- location_type     the point stands at ≥1 kind of place the set allows (post offices only under 950)
- qualifying_basis  every product with units on the shelf has a qualifying basis on `day` (a valid 3★+
                    certificate or a valid basis P-02…P-04)
- clean_shelf       no expired lot, no recalled lot, no product whose certificate was withdrawn (and that has no
                    other basis) with units on the shelf
- prices            every product on the shelf has a price above 0
- operator          the operator's name and business registration number are recorded
- open_status       the point is open
- floor_area        floor area ≥ params.min_m2; not applicable while no threshold is set; fails when unknown
- recent_sales      a counter sale or a fulfilled order line within the last params.days days"""
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from shop.audit.models import AutoCheck, CriteriaSet, Criterion, Outcome
from shop.catalog.models import Product
from shop.certification.models import Certificate
from shop.certification.queries import qualified_clause
from shop.core.clock import VN_TZ
from shop.extensions import db
from shop.inventory.models import CounterSale, Lot, MovementKind, StockLevel, StockMovement
from shop.sales_points.models import PointLocationType, PointStatus, SalesPoint

POINTS_PER_BATCH = 500  # keeps every IN list far below the databases' parameter limits


@dataclass(frozen=True)
class CheckResult:
    outcome: Outcome
    detail: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"outcome": self.outcome.value, "detail": self.detail}

    @classmethod
    def from_json(cls, data: dict) -> "CheckResult":
        return cls(Outcome(data["outcome"]), data.get("detail") or {})


def _verdict(failed: bool) -> Outcome:
    return Outcome.FAIL if failed else Outcome.PASS


# --- facts over a batch of points ---------------------------------------------------------------------------

class _Facts:
    """What the checks of one batch need, each fact read by one query over the whole batch, on demand."""

    def __init__(self, points: list[SalesPoint], day: date):
        self.points, self.day = points, day
        self.ids = [point.id for point in points]
        self._cache: dict = {}

    def _once(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def _on_shelf(self):
        return sa.and_(StockLevel.point_id.in_(self.ids), StockLevel.on_hand > 0)

    def _unqualified_ids(self) -> sa.Select:
        """Products on the batch's shelves without a qualifying basis: the rule is probed once per product, not
        once per stock level (a product sits on many shelves, in several lots)."""
        shelf = sa.select(StockLevel.product_id).where(self._on_shelf()).distinct().subquery("shelf_products")
        return sa.select(shelf.c.product_id).where(sa.not_(qualified_clause(shelf.c.product_id, self.day)))

    def location_types(self) -> dict[int, list[str]]:
        def compute():
            found: dict[int, list[str]] = {}
            rows = db.session.execute(
                sa.select(PointLocationType.point_id, PointLocationType.location_type)
                .where(PointLocationType.point_id.in_(self.ids))
                .order_by(PointLocationType.point_id, PointLocationType.location_type))
            for point_id, kind in rows:
                found.setdefault(point_id, []).append(getattr(kind, "value", kind))
            return found
        return self._once("location_types", compute)

    def products_on_shelf(self) -> dict[int, int]:
        def compute():
            rows = db.session.execute(
                sa.select(StockLevel.point_id, sa.func.count(sa.distinct(StockLevel.product_id)))
                .where(self._on_shelf()).group_by(StockLevel.point_id))
            return {point_id: int(count) for point_id, count in rows}
        return self._once("products_on_shelf", compute)

    def unqualified(self) -> dict[int, list[dict]]:
        """Products with units on the shelf and no qualifying basis on `day`."""
        def compute():
            rows = db.session.execute(
                sa.select(StockLevel.point_id, Product.id, Product.name, Product.slug, sa.func.sum(StockLevel.on_hand))
                .join(Product, Product.id == StockLevel.product_id)
                .where(self._on_shelf(), StockLevel.product_id.in_(self._unqualified_ids()))
                .group_by(StockLevel.point_id, Product.id, Product.name, Product.slug)
                .order_by(StockLevel.point_id, Product.name, Product.id))
            found: dict[int, list[dict]] = {}
            for point_id, product_id, name, slug, units in rows:
                found.setdefault(point_id, []).append(
                    {"product": name, "product_id": product_id, "slug": slug, "on_hand": int(units)})
            return found
        return self._once("unqualified", compute)

    def bad_lots(self) -> dict[int, list[dict]]:
        """Lots with units on the shelf that are expired on `day` or recalled."""
        def compute():
            rows = db.session.execute(
                sa.select(StockLevel.point_id, Product.id, Product.name, Lot.lot_code, Lot.expiry_date, Lot.recalled_at,
                          StockLevel.on_hand)
                .join(Lot, Lot.id == StockLevel.lot_id).join(Product, Product.id == StockLevel.product_id)
                .where(self._on_shelf(), StockLevel.lot_id.in_(
                    sa.select(Lot.id).where(sa.or_(Lot.expiry_date < self.day, Lot.recalled_at.is_not(None)))))
                .order_by(StockLevel.point_id, Product.name, Lot.lot_code, Lot.id))
            found: dict[int, list[dict]] = {}
            for point_id, product_id, name, lot_code, expiry, recalled_at, on_hand in rows:
                reasons = []
                if expiry is not None and expiry < self.day:
                    reasons.append("expired")
                if recalled_at is not None:
                    reasons.append("recalled")
                found.setdefault(point_id, []).append({
                    "product": name, "product_id": product_id, "lot": lot_code, "on_hand": int(on_hand),
                    "reasons": reasons, "expiry_date": expiry.isoformat() if expiry else None,
                    "recalled_on": recalled_at.astimezone(VN_TZ).date().isoformat() if recalled_at else None})
            return found
        return self._once("bad_lots", compute)

    def withdrawn(self) -> dict[int, list[dict]]:
        """Products on the shelf whose certificate was withdrawn on or before `day` and that have no qualifying
        basis left (a new certificate or another basis makes them sellable again)."""
        def compute():
            withdrawn = sa.select(Certificate.product_id).where(Certificate.withdrawn_on.is_not(None),
                                                                Certificate.withdrawn_on <= self.day)
            rows = db.session.execute(
                sa.select(StockLevel.point_id, Product.id, Product.name, sa.func.sum(StockLevel.on_hand))
                .join(Product, Product.id == StockLevel.product_id)
                .where(self._on_shelf(), StockLevel.product_id.in_(withdrawn),
                       StockLevel.product_id.in_(self._unqualified_ids()))
                .group_by(StockLevel.point_id, Product.id, Product.name)
                .order_by(StockLevel.point_id, Product.name, Product.id)).all()
            product_ids = sorted({row[1] for row in rows})
            latest: dict[int, tuple] = {}
            for start in range(0, len(product_ids), POINTS_PER_BATCH):
                for product_id, withdrawn_on, decision_no in db.session.execute(
                        sa.select(Certificate.product_id, Certificate.withdrawn_on, Certificate.withdrawal_decision_no)
                        .where(Certificate.product_id.in_(product_ids[start:start + POINTS_PER_BATCH]),
                               Certificate.withdrawn_on.is_not(None), Certificate.withdrawn_on <= self.day)
                        .order_by(Certificate.product_id, Certificate.withdrawn_on, Certificate.id)):
                    latest[product_id] = (withdrawn_on, decision_no)  # the last one in date order wins
            found: dict[int, list[dict]] = {}
            for point_id, product_id, name, units in rows:
                withdrawn_on, decision_no = latest.get(product_id, (None, None))
                found.setdefault(point_id, []).append({
                    "product": name, "product_id": product_id, "lot": None, "on_hand": int(units),
                    "reasons": ["certificate_withdrawn"],
                    "withdrawn_on": withdrawn_on.isoformat() if withdrawn_on else None,
                    "withdrawal_decision_no": decision_no})
            return found
        return self._once("withdrawn", compute)

    def unpriced(self) -> dict[int, list[dict]]:
        def compute():
            rows = db.session.execute(
                sa.select(StockLevel.point_id, Product.id, Product.name, Product.price_vnd,
                          sa.func.sum(StockLevel.on_hand))
                .join(Product, Product.id == StockLevel.product_id)
                .where(self._on_shelf(), StockLevel.product_id.in_(
                    sa.select(Product.id).where(sa.or_(Product.price_vnd.is_(None), Product.price_vnd <= 0))))
                .group_by(StockLevel.point_id, Product.id, Product.name, Product.price_vnd)
                .order_by(StockLevel.point_id, Product.name, Product.id))
            found: dict[int, list[dict]] = {}
            for point_id, product_id, name, price, units in rows:
                found.setdefault(point_id, []).append({"product": name, "product_id": product_id,
                                                       "price_vnd": price, "on_hand": int(units)})
            return found
        return self._once("unpriced", compute)

    def sales(self, days: int) -> dict[int, dict]:
        """Counter sales and fulfilled order lines per point since the start of the (local) day `days - 1` days
        before `day`, i.e. the last `days` calendar days including `day`."""
        def compute():
            since = datetime.combine(self.day - timedelta(days=days - 1), time.min, tzinfo=VN_TZ)
            until = datetime.combine(self.day + timedelta(days=1), time.min, tzinfo=VN_TZ)
            found: dict[int, dict] = {}
            for point_id, count, last in db.session.execute(
                    sa.select(CounterSale.point_id, sa.func.count(), sa.func.max(CounterSale.created_at))
                    .where(CounterSale.point_id.in_(self.ids), CounterSale.created_at >= since,
                           CounterSale.created_at < until)
                    .group_by(CounterSale.point_id)):
                found[point_id] = {"counter_sales": int(count), "fulfilled_orders": 0, "last": last}
            for point_id, count, last in db.session.execute(
                    sa.select(StockMovement.point_id, sa.func.count(sa.distinct(StockMovement.reference)),
                              sa.func.max(StockMovement.occurred_at))
                    .where(StockMovement.point_id.in_(self.ids), StockMovement.kind == MovementKind.ORDER_FULFILMENT,
                           StockMovement.occurred_at >= since, StockMovement.occurred_at < until)
                    .group_by(StockMovement.point_id)):
                entry = found.setdefault(point_id, {"counter_sales": 0, "fulfilled_orders": 0, "last": None})
                entry["fulfilled_orders"] = int(count)
                entry["last"] = max(filter(None, (entry["last"], last)), default=None, key=_aware)
            return found
        return self._once(("sales", days), compute)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes from aggregates (max): make them aware."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- the checks, one point at a time over the batch's facts ---------------------------------------------------

def _location_type(point, facts: _Facts, criteria_set: CriteriaSet, params: dict) -> CheckResult:
    kinds = facts.location_types().get(point.id, [])
    allowed = set(criteria_set.allowed_location_types or [])
    matching = [kind for kind in kinds if kind in allowed]
    return CheckResult(_verdict(not matching), {"location_types": kinds, "matching": matching,
                                                "not_allowed": [kind for kind in kinds if kind not in allowed]})


def _qualifying_basis(point, facts: _Facts, criteria_set, params) -> CheckResult:
    offenders = facts.unqualified().get(point.id, [])
    return CheckResult(_verdict(bool(offenders)), {"products_on_shelf": facts.products_on_shelf().get(point.id, 0),
                                                   "offenders": offenders})


def _clean_shelf(point, facts: _Facts, criteria_set, params) -> CheckResult:
    lots = facts.bad_lots().get(point.id, [])
    withdrawn = facts.withdrawn().get(point.id, [])
    offenders = lots + withdrawn
    return CheckResult(_verdict(bool(offenders)), {
        "expired_lots": sum("expired" in item["reasons"] for item in lots),
        "recalled_lots": sum("recalled" in item["reasons"] for item in lots),
        "withdrawn_products": len(withdrawn), "offenders": offenders})


def _prices(point, facts: _Facts, criteria_set, params) -> CheckResult:
    offenders = facts.unpriced().get(point.id, [])
    return CheckResult(_verdict(bool(offenders)), {"products_on_shelf": facts.products_on_shelf().get(point.id, 0),
                                                   "offenders": offenders})


def _operator(point, facts, criteria_set, params) -> CheckResult:
    name = (point.operator_name or "").strip()
    registration = (point.operator_registration_no or "").strip()
    missing = [label for label, value in (("operator_name", name), ("operator_registration_no", registration))
               if not value]
    return CheckResult(_verdict(bool(missing)), {"operator_name": name or None,
                                                 "operator_registration_no": registration or None,
                                                 "missing": missing})


def _open_status(point, facts, criteria_set, params) -> CheckResult:
    status = getattr(point.status, "value", point.status)
    return CheckResult(_verdict(status != PointStatus.OPEN.value), {"status": status})


def _floor_area(point, facts, criteria_set, params) -> CheckResult:
    minimum = params.get("min_m2")
    detail = {"floor_area_m2": point.floor_area_m2, "min_m2": minimum}
    if minimum is None:
        return CheckResult(Outcome.NOT_APPLICABLE, {**detail, "reason": "no_threshold"})
    if point.floor_area_m2 is None:
        return CheckResult(Outcome.FAIL, {**detail, "reason": "unknown_area"})
    return CheckResult(_verdict(point.floor_area_m2 < minimum), detail)


def _recent_sales(point, facts: _Facts, criteria_set, params) -> CheckResult:
    days = params.get("days") or 30
    found = facts.sales(days).get(point.id)
    if not found:
        return CheckResult(Outcome.FAIL, {"days": days, "counter_sales": 0, "fulfilled_orders": 0,
                                          "last_sale_at": None})
    last = found["last"]
    return CheckResult(Outcome.PASS, {"days": days, "counter_sales": found["counter_sales"],
                                      "fulfilled_orders": found["fulfilled_orders"],
                                      "last_sale_at": _aware(last).isoformat() if last else None})


CHECKS = {
    AutoCheck.LOCATION_TYPE: _location_type,
    AutoCheck.QUALIFYING_BASIS: _qualifying_basis,
    AutoCheck.CLEAN_SHELF: _clean_shelf,
    AutoCheck.PRICES: _prices,
    AutoCheck.OPERATOR: _operator,
    AutoCheck.OPEN_STATUS: _open_status,
    AutoCheck.FLOOR_AREA: _floor_area,
    AutoCheck.RECENT_SALES: _recent_sales,
}


# --- entry points ---------------------------------------------------------------------------------------------

def _automatic(criteria_set: CriteriaSet) -> list[Criterion]:
    return sorted((c for c in criteria_set.criteria if c.auto_check is not None), key=lambda c: (c.position, c.id))


def check_points(points: Iterable[SalesPoint], criteria_set: CriteriaSet, day: date,
                 criteria: list[Criterion] | None = None) -> dict[int, dict[str, CheckResult]]:
    """{point id: {criterion code: CheckResult}} for every criterion of the set that names an automatic check.
    A handful of queries per batch of POINTS_PER_BATCH points, whatever the number of points."""
    points = list(points)
    criteria = _automatic(criteria_set) if criteria is None else criteria
    results: dict[int, dict[str, CheckResult]] = {}
    for start in range(0, len(points), POINTS_PER_BATCH):
        batch = points[start:start + POINTS_PER_BATCH]
        facts = _Facts(batch, day)
        for point in batch:
            results[point.id] = {criterion.code: CHECKS[AutoCheck(criterion.auto_check)](
                point, facts, criteria_set, criterion.params or {}) for criterion in criteria}
    return results


def run_checks(point: SalesPoint, criteria_set: CriteriaSet, day: date) -> dict[str, CheckResult]:
    """The automatic checks of one point: {criterion code: CheckResult}."""
    return check_points([point], criteria_set, day)[point.id]
