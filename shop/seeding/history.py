"""A point's stock history played in time order: deliveries of several lots per product (fresh goods weekly and
their leftovers written off when they expire; every fourth long-life product with a first lot close to its
expiry date; crafts without expiry), one slow seller whose expired lot is still on the shelf, a damaged unit and
a month of counter sales, each sale taking only what was on the shelf at that moment. Used by the demo points
and by the busy point of the scale data; written through shop.seeding.ledger.LedgerWriter."""
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.core.clock import VN_TZ, today
from shop.core.models import utcnow
from shop.extensions import db
from shop.inventory.models import AdjustmentReason, Lot, PaymentMethod, StockMovement
from shop.sales_points.models import PointProduct, SalesPoint
from shop.sales_points.queries import managers_of
from shop.seeding.ledger import Item, LedgerWriter, LotInfo, is_stocked, shelf_life_days

HISTORY_DAYS = 35      # the first deliveries; sales run over the last SALES_DAYS days and today so far
SALES_DAYS = 30
FRESH_SHELF_LIFE = 60  # below this many days of shelf life, goods come every week
PAYMENTS = [PaymentMethod.CASH] * 6 + [PaymentMethod.BANK_TRANSFER] * 3 + [PaymentMethod.CARD]


@dataclass(frozen=True)
class Profile:
    sales_per_day: tuple[int, int]
    units_per_delivery: tuple[int, int]


@dataclass(frozen=True)
class Delivery:
    lot_code: str
    produced: date
    expires: date | None
    received: date


def has_ledger(point: SalesPoint) -> bool:
    return db.session.scalar(sa.select(StockMovement.id).where(StockMovement.point_id == point.id).limit(1)) \
        is not None


def manager_of(point: SalesPoint) -> User:
    managers = managers_of(point.id)
    if not managers:
        raise ValueError(f"seed data: point {point.code} has no manager to record its stock history")
    return managers[0]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Vietnamese wall-clock time as an aware UTC datetime."""
    return datetime.combine(day, time(hour, minute), tzinfo=VN_TZ).astimezone(UTC)


def deliveries(product: Product, day: date) -> list[Delivery]:
    """The lots of a product that points received, the same for every point (a producer's batches)."""
    rng = random.Random(f"demo-lots-{product.slug}")
    life = shelf_life_days(product.subgroup_code)
    start = day - timedelta(days=HISTORY_DAYS)
    if life is None:  # crafts: one batch, then a second one
        batches = [(start - timedelta(days=rng.randrange(20, 90)), start),
                   (day - timedelta(days=18), day - timedelta(days=14))]
    elif life < FRESH_SHELF_LIFE:  # fresh goods: a batch a week
        batches = [(start + timedelta(days=7 * week - 1), start + timedelta(days=7 * week))
                   for week in range(HISTORY_DAYS // 7 + 1)]
    else:
        # Every fourth product's first batch is close to its end, so the alerts have lots expiring soon.
        age = life - HISTORY_DAYS - rng.randrange(6, 26) if rng.random() < 0.25 else rng.randrange(10, 60)
        batches = [(start - timedelta(days=age), start), (day - timedelta(days=16), day - timedelta(days=13))]
    return [Delivery(f"L{produced:%y%m%d}", produced, None if life is None else produced + timedelta(days=life),
                     received) for produced, received in batches]


def expired_delivery(product: Product, day: date) -> Delivery:
    """A batch of a slow seller that expired a few days ago and is still on the shelf (the alert)."""
    life = shelf_life_days(product.subgroup_code) or 365
    expires = day - timedelta(days=4)
    produced = expires - timedelta(days=life)
    return Delivery(f"L{produced:%y%m%d}-X", produced, expires, min(produced + timedelta(days=3),
                                                                    day - timedelta(days=HISTORY_DAYS + 5)))


def slow_seller(products: list[Product]) -> Product | None:
    """The product whose expired lot stays on the shelf: long shelf life, and never sold in the history."""
    candidates = [p for p in products if (shelf_life_days(p.subgroup_code) or 0) >= 180]
    return candidates[len(candidates) // 2] if candidates else None


def ensure_lots(products: set[Product], slow: set[Product]) -> dict[tuple[int, str], LotInfo]:
    """Every lot the deliveries need, by (product id, lot code); existing ones are reused."""
    day = today()
    wanted = {}
    for product in products:
        extra = [expired_delivery(product, day)] if product in slow else []
        for delivery in [*deliveries(product, day), *extra]:
            wanted[(product.id, delivery.lot_code)] = delivery
    existing = {(lot.product_id, lot.lot_code): lot for lot in db.session.scalars(
        sa.select(Lot).where(Lot.product_id.in_({product_id for product_id, _code in wanted})))}
    lots = {key: LotInfo(lot.id, lot.product_id, lot.lot_code, lot.production_date, lot.expiry_date)
            for key, lot in existing.items() if key in wanted}
    rows = [{"product_id": product_id, "lot_code": code, "production_date": d.produced, "expiry_date": d.expires,
             "created_at": at(d.received, 8)}
            for (product_id, code), d in sorted(wanted.items()) if (product_id, code) not in existing]
    for lot in LedgerWriter().insert_lots(rows):
        lots[(lot.product_id, lot.lot_code)] = lot
    return lots


class PointHistory:
    """One point's five weeks, played in time order so that sales only take what was on the shelf."""

    def __init__(self, point: SalesPoint, writer: LedgerWriter, profile: Profile):
        self.point, self.writer, self.profile = point, writer, profile
        self.rng = random.Random(f"stock-history-{point.code}")
        self.actor_id = manager_of(point).id
        self.products = list(db.session.scalars(
            sa.select(Product).join(PointProduct, PointProduct.product_id == Product.id)
            .where(PointProduct.point_id == point.id).order_by(Product.id)))
        self.products = [p for p in self.products if p.is_published and is_stocked(p.subgroup_code)]
        self.slow = slow_seller(self.products)
        self.notes = 0

    def play(self, lots: dict[tuple[int, str], LotInfo]) -> None:
        day = today()
        events: list[tuple[datetime, int, Callable[[datetime], None]]] = []  # (when, order, action)
        for product in self.products:
            batches = deliveries(product, day)
            if product is self.slow:
                batches = [expired_delivery(product, day), *batches]
            for delivery in batches:
                lot = lots[(product.id, delivery.lot_code)]
                events.append((at(delivery.received, 8, self.rng.randrange(0, 50)), 0,
                               self._receipt(product, lot)))
                if delivery.expires is not None and delivery.expires <= day and lot.lot_code[-2:] != "-X":
                    # Leftovers are written off at closing time on the expiry date (sellable through that day), so
                    # at no hour of the night is an expired fresh lot still on the books.
                    events.append((at(delivery.expires, 21, 30), 4, self._write_off(lot)))
        events.append((at(day - timedelta(days=9), 17, 10), 2, self._damaged()))
        events += self._sales(day)
        now = utcnow()
        for when, _order, action in sorted(events, key=lambda e: (e[0], e[1])):
            if when <= now:  # today's delivery or write-off may still be ahead
                action(when)

    def _receipt(self, product: Product, lot: LotInfo):
        low, high = self.profile.units_per_delivery
        quantity = self.rng.randint(low, high)
        if product is self.slow:
            quantity = low
        cost = max(1000, round(product.price_vnd * self.rng.uniform(0.55, 0.72), -3))

        def action(when: datetime) -> None:
            self.notes += 1
            note = f"PGH-{when.astimezone(VN_TZ):%y%m%d}-{self.notes:03d}"
            self.writer.receive(self.point.id, lot, quantity, unit_cost_vnd=int(cost), delivery_note=note,
                                actor_id=self.actor_id, at=when)
        return action

    def _write_off(self, lot: LotInfo):
        def action(when: datetime) -> None:
            left = self.writer.held(self.point.id, lot)
            if left:
                self.writer.adjust(self.point.id, lot, -left, AdjustmentReason.EXPIRED_WRITE_OFF,
                                   actor_id=self.actor_id, at=when, note="Hết hạn sử dụng, hủy theo quy định")
        return action

    def _damaged(self):
        def action(when: datetime) -> None:
            for product in self.products:
                plan = self.writer.fefo(self.point.id, product.id, 1, when.astimezone(VN_TZ).date())
                if plan and product is not self.slow:
                    self.writer.adjust(self.point.id, plan[0][0], -1, AdjustmentReason.DAMAGED,
                                       actor_id=self.actor_id, at=when, note="Bao bì bị rách khi trưng bày")
                    return
        return action

    def _sales(self, day: date) -> list:
        sellable = [p for p in self.products if p is not self.slow]
        if not sellable:
            return []
        # Some products sell much better than others (the dashboard's top products).
        weights = [self.rng.choice([1, 1, 2, 3, 6]) for _ in sellable]
        opens, closes = self.point.opens_at or time(7, 30), self.point.closes_at or time(19, 0)
        first_minute, last_minute = opens.hour * 60 + opens.minute, closes.hour * 60 + closes.minute - 1
        latest = utcnow() - timedelta(minutes=5)
        events = []
        for days_ago in range(SALES_DAYS, -1, -1):
            sale_day = day - timedelta(days=days_ago)
            for _ in range(self.rng.randint(*self.profile.sales_per_day)):
                minute = self.rng.randrange(first_minute, max(first_minute + 1, last_minute))
                when = at(sale_day, minute // 60, minute % 60)
                if when > latest:
                    continue
                count = self.rng.choices([1, 2, 3], [60, 30, 10])[0]
                chosen = {p.id: p for p in self.rng.choices(sellable, weights, k=count)}
                wanted = [(Item(p.id, p.name, p.price_vnd), self.rng.choices([1, 2], [80, 20])[0])
                          for p in chosen.values()]
                events.append((when, 3, self._sale(wanted, self.rng.choice(PAYMENTS))))
        return events

    def _sale(self, wanted: list[tuple[Item, int]], payment: PaymentMethod):
        def action(when: datetime) -> None:
            day = when.astimezone(VN_TZ).date()
            # What is out of stock is left out of the basket, as a cashier would.
            basket = [(item, qty) for item, qty in wanted if self.writer.fefo(self.point.id, item.id, qty, day)]
            if basket:
                self.writer.sell(self.point.id, self.point.code, basket, payment_method=payment,
                                 actor_id=self.actor_id, at=when)
        return action
