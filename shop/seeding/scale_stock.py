"""`flask seed scale --movements N`: stock at the open scale points and N ledger rows, for the inventory benchmark.

Every open point that gets stock has a manager (a bulk-inserted account with an unusable random password) who
is the actor of its rows. The first open point is the busy one: five weeks of history played in time order like
the demo points (shop.seeding.history), with 45–70 counter sales a day, so its dashboard has a 30-day chart.
The rest of the N rows go to the other open points, point after point: one receipt per (point, product, lot)
level, then single-line counter sales (with their sale documents and per-point numbers, in time order) and a
few adjustments, a restock receipt whenever a level would run dry. Levels are the sums of the rows written
(shop.seeding.ledger), so `flask inventory verify` passes."""
import random
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shop.accounts.models import Role, User
from shop.accounts.services import hash_password
from shop.core.clock import today
from shop.core.models import utcnow
from shop.extensions import db
from shop.inventory.models import (
    AdjustmentReason,
    CounterSale,
    CounterSaleLine,
    MovementKind,
    StockLevel,
    StockMovement,
)
from shop.sales_points.models import PointManager, SalesPoint
from shop.seeding.history import PAYMENTS, PointHistory, Profile, at, ensure_lots
from shop.seeding.ledger import (
    Item,
    LedgerWriter,
    LotInfo,
    core_insert,
    indexes_built_afterwards,
    insert_with_ids,
    is_stocked,
)

BUSY_PROFILE = Profile(sales_per_day=(45, 70), units_per_delivery=(30, 80))
BUSY_MIN_MOVEMENTS = 8000  # below this, no busy point: its month of history alone takes about 4,000 rows
RECEIPT_UNITS = (20, 80)
BASKET_SIZES = (1, 1, 1, 2, 2, 3)  # lines per counter sale
SALE_SHARE = 0.9  # of the rows after a level's receipt; the rest are adjustments
ADJUSTMENTS = [(AdjustmentReason.DAMAGED, -1), (AdjustmentReason.SAMPLE_PROMOTION, -1), (AdjustmentReason.LOST, -1),
               (AdjustmentReason.COUNT_CORRECTION, -1), (AdjustmentReason.COUNT_CORRECTION, 1)]


@dataclass(frozen=True)
class ProductFacts:
    """What the stock generator needs of a scale product (the same attribute names as Product)."""
    id: int
    slug: str
    name: str
    price_vnd: int
    subgroup_code: str


@dataclass
class StockReport:
    movements: int = 0
    lots: int = 0
    levels: int = 0
    counter_sales: int = 0
    managers: int = 0
    busy_point: str | None = None


@dataclass(frozen=True)
class _Event:
    when: datetime
    order: int  # a receipt before a sale at the same instant
    kind: MovementKind
    lot: LotInfo
    quantity: int
    reason: AdjustmentReason | None = None


def insert_stock(points: list[tuple[int, str]], assortment: dict[int, list[int]], products: dict[int, ProductFacts],
                 movements: int, rng: random.Random, progress: Callable[[int], None]) -> StockReport:
    """`points`: the open points as (id, code), in order; `assortment`: point id → product ids it carries."""
    report = StockReport()
    points = [(point_id, code) for point_id, code in points if assortment.get(point_id)]
    if movements <= 0 or not points:
        return report
    managers = _insert_managers(points)
    report.managers = len(managers)
    writer = LedgerWriter(progress=progress)
    busy = None
    if movements >= BUSY_MIN_MOVEMENTS:
        busy = PointHistory(db.session.get(SalesPoint, points[0][0]), writer, BUSY_PROFILE)
        report.busy_point = busy.point.code
    stocked = {products[product_id] for point_id, _code in points for product_id in assortment[point_id]
               if is_stocked(products[product_id].subgroup_code)}
    lots = ensure_lots(stocked | set(busy.products if busy else ()), {busy.slow} if busy and busy.slow else set())
    report.lots = len(lots)
    with indexes_built_afterwards(StockMovement, CounterSale, CounterSaleLine, StockLevel):
        if busy is not None:
            busy.play(lots)
            points = points[1:]
        _Bulk(writer, rng, lots, products, managers).play(points, assortment, movements - writer.rows)
        writer.finish()
    report.movements, report.counter_sales, report.levels = writer.rows, writer.sales_written, writer.levels_written
    return report


def _insert_managers(points: list[tuple[int, str]]) -> dict[int, int]:
    """One manager per point (point id → user id). They cannot log in: the password is random and forgotten;
    `flask users create … --point CODE` makes an account for a person."""
    password_hash = hash_password(secrets.token_urlsafe(24))
    now = utcnow()
    rows = [{"email": f"{code.lower()}@scale.example.com", "password_hash": password_hash,
             "full_name": f"Quản lý {code}", "role": Role.POINT_MANAGER, "is_active": True, "created_at": now,
             "updated_at": now} for _point_id, code in points]
    ids = insert_with_ids(User, rows, ("email",))
    managers = {point_id: ids[(row["email"],)] for row, (point_id, _code) in zip(rows, points, strict=True)}
    core_insert(PointManager, [{"user_id": user_id, "point_id": point_id} for point_id, user_id in managers.items()])
    return managers


class _Bulk:
    """The ordinary points: each level's rows are planned in time order, then each point's rows are written in
    time order, so sale numbers follow the clock and no level is ever below zero."""

    def __init__(self, writer: LedgerWriter, rng: random.Random, lots: dict[tuple[int, str], LotInfo],
                 products: dict[int, ProductFacts], managers: dict[int, int]):
        self.writer, self.rng, self.products, self.managers = writer, rng, products, managers
        self.day, self.now = today(), utcnow()
        self.items = {}
        self.lots_of: dict[int, list[LotInfo]] = defaultdict(list)
        for lot in lots.values():
            if lot.sellable_on(self.day):
                self.lots_of[lot.product_id].append(lot)
        self.received = {}  # lot id → the day it came in (the delivery's date)

    def play(self, points: list[tuple[int, str]], assortment: dict[int, list[int]], budget: int) -> None:
        if budget <= 0:
            return
        # One receipt per level and about two more rows each: fewer levels when the budget is small.
        levels = self._levels(points, assortment)
        levels = levels[:max(1, budget // 3)]
        counts = [0] * len(levels)
        for index in self.rng.choices(range(len(levels)), k=budget - len(levels)):
            counts[index] += 1
        by_point: dict[int, list[tuple[LotInfo, int]]] = defaultdict(list)
        for (point_id, lot), count in zip(levels, counts, strict=True):
            by_point[point_id].append((lot, count))
        for point_id, code in points:
            if point_id in by_point:
                events = [event for lot, count in by_point[point_id] for event in self._level_events(lot, count)]
                self._write(point_id, code, sorted(events, key=lambda e: (e.when, e.order)))

    def _levels(self, points: list[tuple[int, str]], assortment: dict[int, list[int]]) -> list[tuple[int, LotInfo]]:
        """(point id, lot) for every level the points could hold: the last one or two sellable lots of each
        product they carry."""
        levels = []
        for point_id, _code in points:
            for product_id in sorted(assortment[point_id]):
                lots = sorted(self.lots_of.get(product_id, ()), key=lambda lot: lot.production_date)
                levels += [(point_id, lot) for lot in lots[-self.rng.choice((1, 2)):]]
        return levels

    def _received(self, lot: LotInfo) -> datetime:
        # Delivered a few days after production, and no earlier than five weeks ago (the history's start).
        day = max(lot.production_date + timedelta(days=3), self.day - timedelta(days=35))
        return at(min(day, self.day - timedelta(days=1)), 8, self.rng.randrange(60))

    def _level_events(self, lot: LotInfo, outflows: int) -> list[_Event]:
        r = self.rng
        start = self._received(lot)
        span = max(60.0, (self.now - start).total_seconds() - 3600)
        stock = r.randint(*RECEIPT_UNITS)
        events = [_Event(start, 0, MovementKind.RECEIPT, lot, stock)]
        for offset in sorted(r.random() * span for _ in range(outflows)):
            when = start + timedelta(seconds=60 + offset)
            if r.random() < SALE_SHARE:
                kind, reason, delta = MovementKind.COUNTER_SALE, None, -r.choice((1, 1, 1, 2))
            else:
                kind, (reason, delta) = MovementKind.ADJUSTMENT, r.choice(ADJUSTMENTS)
            if stock + delta < 0:  # ran dry: the row is a restock instead
                kind, reason, delta = MovementKind.RECEIPT, None, r.randint(*RECEIPT_UNITS)
            stock += delta
            events.append(_Event(when, 0 if delta > 0 else 1, kind, lot, delta, reason))
        return events

    def _item(self, product_id: int) -> Item:
        if product_id not in self.items:
            facts = self.products[product_id]
            self.items[product_id] = Item(facts.id, facts.name, facts.price_vnd)
        return self.items[product_id]

    def _write(self, point_id: int, code: str, events: list[_Event]) -> None:
        """Sale rows are gathered into baskets of one to three lines, sold at the time of the basket's last row:
        a row moved later never takes stock that was not there yet."""
        actor_id, w = self.managers[point_id], self.writer
        basket: list[_Event] = []
        size = self.rng.choice(BASKET_SIZES)
        for event in events:
            if event.kind == MovementKind.RECEIPT:
                price = self.products[event.lot.product_id].price_vnd
                w.receive(point_id, event.lot, event.quantity, unit_cost_vnd=price * 6 // 10,
                          delivery_note=f"PGH-{event.when:%y%m%d}-{event.lot.id}", actor_id=actor_id, at=event.when)
            elif event.kind == MovementKind.ADJUSTMENT:
                w.adjust(point_id, event.lot, event.quantity, event.reason, actor_id=actor_id, at=event.when)
            else:
                basket.append(event)
                if len(basket) == size:
                    self._sell(point_id, code, basket)
                    basket, size = [], self.rng.choice(BASKET_SIZES)
        if basket:
            self._sell(point_id, code, basket)

    def _sell(self, point_id: int, code: str, basket: list[_Event]) -> None:
        lines = [(self._item(event.lot.product_id), [(event.lot, -event.quantity)]) for event in basket]
        self.writer.record_sale(point_id, code, lines, payment_method=self.rng.choice(PAYMENTS),
                                actor_id=self.managers[point_id], at=basket[-1].when)
