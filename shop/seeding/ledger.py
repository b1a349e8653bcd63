"""Stock history written in bulk with past timestamps, for the demo and the benchmark data.

The inventory services stamp the current time, so a month of history cannot go through them. `LedgerWriter`
writes the same rows they would (lots, ledger rows, counter sales with their lines and numbers) and, at the
end, the stock levels computed from the very rows it wrote, so levels always equal the sum of the ledger and
`flask inventory verify` passes. Sales are planned first-expired-first-out among the lots sellable on the day
of the sale, like `sell_at_counter`. The writer only starts levels that do not exist yet."""
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shop.core.clock import VN_TZ
from shop.extensions import db
from shop.inventory.models import (
    AdjustmentReason,
    CounterSale,
    CounterSaleLine,
    DocumentCounter,
    Lot,
    MovementKind,
    PaymentMethod,
    StockLevel,
    StockMovement,
)

CHUNK = 5000
LOOKUP = 400  # keys per SELECT … IN, well below SQLite's limit on bound parameters
MOVEMENT_COLUMNS = ("point_id", "product_id", "lot_id", "quantity", "kind", "reason", "note", "unit_cost_vnd",
                    "reference", "actor_id", "occurred_at")
SALE_COLUMNS = ("number", "point_id", "total_vnd", "payment_method", "actor_id", "created_at")
LINE_COLUMNS = ("sale_id", "product_id", "lot_id", "product_name", "lot_code", "quantity", "unit_price_vnd",
                "quantity_returned")
LEVEL_COLUMNS = ("point_id", "product_id", "lot_id", "on_hand", "reserved")
SALE_COUNTER = "counter_sale"  # the DocumentCounter kind sell_at_counter numbers receipts with

# Shelf life in days by OCOP sub-group prefix (longest prefix wins); None: not perishable (crafts, plants).
SHELF_LIFE_DAYS = {"1.1": 21, "1.2": 365, "1.3": 270, "1.4": 540, "1.5": 540, "1.6": 365, "2": 720, "3.1": 720,
                   "3.2": 1080, "3.3": 1080, "4": None, "5": None}


def shelf_life_days(subgroup: str) -> int | None:
    for prefix in sorted(SHELF_LIFE_DAYS, key=len, reverse=True):
        if subgroup == prefix or subgroup.startswith(prefix + "."):
            return SHELF_LIFE_DAYS[prefix]
    return 365


def is_stocked(subgroup: str) -> bool:
    """Group 6 is rural tourism (services): nothing to put on a shelf."""
    return not subgroup.startswith("6")


@contextmanager
def indexes_built_afterwards(*models):
    """Bulk loads run several times faster when the secondary indexes are built once at the end than when every
    row updates them. Dropped and rebuilt inside the caller's transaction: a failure rolls both back. Unique
    constraints stay, so look-ups by natural key keep their index."""
    connection = db.session.connection()
    indexes = sorted((index for model in models for index in model.__table__.indexes), key=lambda i: i.name)
    for index in indexes:
        index.drop(connection)
    yield
    for index in indexes:
        index.create(connection)


class RawInsert:
    """INSERT of plain tuples in `columns` order, handed straight to the driver's executemany: for millions of
    rows the per-row work of SQLAlchemy's parameter handling costs more than SQLite's own. Values must be ready
    for the driver: `value(column, python_value)` converts with the column type's own bind processor."""

    def __init__(self, model, columns: tuple[str, ...]):
        self.table, self.columns = model.__table__, columns
        self.dialect = db.session.get_bind().dialect
        mark = "?" if self.dialect.paramstyle == "qmark" else "%s"
        self.sql = (f"INSERT INTO {self.table.name} ({', '.join(columns)}) "
                    f"VALUES ({', '.join([mark] * len(columns))})")

    def processor(self, column: str) -> Callable:
        process = self.table.c[column].type.bind_processor(self.dialect)
        return process or (lambda value: value)

    def __call__(self, rows: list[tuple]) -> None:
        if rows:
            db.session.connection().exec_driver_sql(self.sql, rows)


def core_insert(model, rows: list[dict]) -> None:
    """One executemany on the session's connection: the ORM's bulk path costs several times more per row."""
    if rows:
        db.session.connection().execute(model.__table__.insert(), rows)


def insert_with_ids(model, rows: list[dict], key: tuple[str, ...], chunk: int = CHUNK) -> dict[tuple, int]:
    """Bulk INSERT, then the new ids by their unique natural `key`. Not INSERT … RETURNING: to return ids in
    row order SQLite executes one statement per row, which is many times slower."""
    ids: dict[tuple, int] = {}
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        core_insert(model, part)
        ids.update(ids_by_key(model, key, [tuple(row[name] for name in key) for row in part]))
    return ids


def ids_by_key(model, key: tuple[str, ...], values: list[tuple]) -> dict[tuple, int]:
    """Ids of rows by their unique natural key (one column or several)."""
    columns = [getattr(model, name) for name in key]
    ids: dict[tuple, int] = {}
    for first in range(0, len(values), LOOKUP):
        wanted = values[first:first + LOOKUP]
        condition = columns[0].in_([k[0] for k in wanted]) if len(key) == 1 else sa.tuple_(*columns).in_(wanted)
        for row in db.session.execute(sa.select(model.id, *columns).where(condition)):
            ids[tuple(row[1:])] = row[0]
    return ids


@dataclass(frozen=True)
class Item:
    """A product as a counter sale snapshots it."""
    id: int
    name: str
    price_vnd: int


@dataclass(frozen=True)
class LotInfo:
    id: int
    product_id: int
    lot_code: str
    production_date: date
    expiry_date: date | None

    def sellable_on(self, day: date) -> bool:
        return self.expiry_date is None or self.expiry_date >= day


class LedgerWriter:
    """Collects history, writes it in chunks of `chunk` rows; `finish()` writes levels and sale counters.
    `progress(n)` is told of every n ledger rows written."""

    def __init__(self, *, chunk: int = CHUNK, progress: Callable[[int], None] | None = None):
        self.chunk = chunk
        self.progress = progress or (lambda n: None)
        self.on_hand: dict[tuple[int, int, int], int] = {}
        self.lots_at: dict[tuple[int, int], list[LotInfo]] = defaultdict(list)
        self.movements_written = 0
        self.sales_written = 0
        self.rows = 0  # ledger rows recorded, written or pending
        self.levels_written = 0
        self._movements: list[tuple] = []
        self._sales: list[tuple[tuple, list[tuple]]] = []
        self._insert_movement = RawInsert(StockMovement, MOVEMENT_COLUMNS)
        self._insert_sale = RawInsert(CounterSale, SALE_COLUMNS)
        self._insert_line = RawInsert(CounterSaleLine, LINE_COLUMNS)
        self._insert_level = RawInsert(StockLevel, LEVEL_COLUMNS)
        self._stamp = self._insert_movement.processor("occurred_at")  # every timestamp column has the same type
        self._last_numbers: dict[int, int] = {}
        self._counters_existing: set[int] = set()

    # --- lots ----------------------------------------------------------------------------------------------
    def insert_lots(self, rows: list[dict]) -> list[LotInfo]:
        """Rows: product_id, lot_code, production_date, expiry_date, created_at. Returns them with their ids."""
        ids = insert_with_ids(Lot, rows, ("product_id", "lot_code"), self.chunk)
        return [LotInfo(ids[(row["product_id"], row["lot_code"])], row["product_id"], row["lot_code"],
                        row["production_date"], row["expiry_date"]) for row in rows]

    # --- movements -----------------------------------------------------------------------------------------
    def move(self, point_id: int, lot: LotInfo, quantity: int, kind: MovementKind, *, actor_id: int, at: datetime,
             reason: AdjustmentReason | None = None, note: str | None = None, unit_cost_vnd: int | None = None,
             reference: str | None = None) -> None:
        key = (point_id, lot.product_id, lot.id)
        before = self.on_hand.get(key)
        if before is None:
            self.lots_at[(point_id, lot.product_id)].append(lot)
        after = (before or 0) + quantity
        if after < 0:
            raise ValueError(f"history generator bug: stock of lot {lot.lot_code} at point {point_id} below zero")
        self.on_hand[key] = after
        self.rows += 1
        self._movements.append((point_id, lot.product_id, lot.id, quantity, kind.value, reason and reason.value,
                                note, unit_cost_vnd, reference, actor_id, self._stamp(at)))
        if len(self._movements) >= self.chunk:
            self._flush_movements()

    def receive(self, point_id: int, lot: LotInfo, quantity: int, *, unit_cost_vnd: int, delivery_note: str,
                actor_id: int, at: datetime) -> None:
        self.move(point_id, lot, quantity, MovementKind.RECEIPT, actor_id=actor_id, at=at,
                  unit_cost_vnd=unit_cost_vnd, reference=delivery_note)

    def adjust(self, point_id: int, lot: LotInfo, delta: int, reason: AdjustmentReason, *, actor_id: int,
               at: datetime, note: str | None = None) -> None:
        self.move(point_id, lot, delta, MovementKind.ADJUSTMENT, actor_id=actor_id, at=at, reason=reason, note=note)

    def held(self, point_id: int, lot: LotInfo) -> int:
        return self.on_hand.get((point_id, lot.product_id, lot.id), 0)

    # --- counter sales -------------------------------------------------------------------------------------
    def fefo(self, point_id: int, product_id: int, quantity: int, day: date) -> list[tuple[LotInfo, int]] | None:
        """Lots and quantities for a sale on `day`, soonest expiry first; None when there is not enough."""
        lots = [lot for lot in self.lots_at.get((point_id, product_id), ()) if lot.sellable_on(day)
                and self.held(point_id, lot) > 0]
        lots.sort(key=lambda lot: (lot.expiry_date is None, lot.expiry_date or day, lot.production_date, lot.id))
        plan, need = [], quantity
        for lot in lots:
            take = min(need, self.held(point_id, lot))
            plan.append((lot, take))
            need -= take
            if need == 0:
                return plan
        return None

    def sell(self, point_id: int, point_code: str, wanted: list[tuple[Item, int]], *,
             payment_method: PaymentMethod, actor_id: int, at: datetime) -> str | None:
        """A counter sale at `at` (aware), all lines or none: returns its number, or None if stock is short."""
        day = at.astimezone(VN_TZ).date()
        plans = [(item, self.fefo(point_id, item.id, quantity, day)) for item, quantity in wanted]
        if any(plan is None for _item, plan in plans):
            return None
        return self.record_sale(point_id, point_code, plans, payment_method=payment_method, actor_id=actor_id,
                                at=at)

    def record_sale(self, point_id: int, point_code: str, plans: list[tuple[Item, list[tuple[LotInfo, int]]]], *,
                    payment_method: PaymentMethod, actor_id: int, at: datetime) -> str:
        """A sale whose lots are already chosen: per item, (lot, quantity) pairs. Returns its number."""
        number = f"{point_code}-{self._next_number(point_id):06d}"
        lines, total = [], 0
        for item, plan in plans:
            for lot, quantity in plan:
                lines.append((item.id, lot.id, item.name, lot.lot_code, quantity, item.price_vnd, 0))
                total += quantity * item.price_vnd
                self.move(point_id, lot, -quantity, MovementKind.COUNTER_SALE, actor_id=actor_id, at=at,
                          reference=number)
        self._sales.append(((number, point_id, total, payment_method.value, actor_id, self._stamp(at)), lines))
        if len(self._sales) >= self.chunk:
            self._flush_sales()
        return number

    def _next_number(self, point_id: int) -> int:
        if point_id not in self._last_numbers:
            existing = db.session.scalar(sa.select(DocumentCounter.last_number).where(
                DocumentCounter.point_id == point_id, DocumentCounter.kind == SALE_COUNTER))
            if existing is not None:
                self._counters_existing.add(point_id)
            self._last_numbers[point_id] = existing or 0
        self._last_numbers[point_id] += 1
        return self._last_numbers[point_id]

    # --- writing -------------------------------------------------------------------------------------------
    def _flush_movements(self) -> None:
        if self._movements:
            self._insert_movement(self._movements)
            self.movements_written += len(self._movements)
            self.progress(len(self._movements))
            self._movements = []

    def _flush_sales(self) -> None:
        if not self._sales:
            return
        self._insert_sale([sale for sale, _lines in self._sales])
        ids = ids_by_key(CounterSale, ("number",), [(sale[0],) for sale, _lines in self._sales])
        self._insert_line([(ids[(sale[0],)], *line) for sale, lines in self._sales for line in lines])
        self.sales_written += len(self._sales)
        self._sales = []

    def finish(self) -> None:
        """Write what is pending, the levels (sums of the rows written) and the points' receipt counters, so the
        next real sale continues the numbering."""
        self._flush_sales()
        self._flush_movements()
        levels = [(*key, on_hand, 0) for key, on_hand in self.on_hand.items()]
        for start in range(0, len(levels), self.chunk):
            self._insert_level(levels[start:start + self.chunk])
        for point_id, last in self._last_numbers.items():
            if point_id in self._counters_existing:
                db.session.execute(sa.update(DocumentCounter).where(
                    DocumentCounter.point_id == point_id, DocumentCounter.kind == SALE_COUNTER)
                    .values(last_number=last).execution_options(synchronize_session=False))
            else:
                db.session.execute(sa.insert(DocumentCounter).values(point_id=point_id, kind=SALE_COUNTER,
                                                                     last_number=last))
        self.levels_written = len(levels)
        self.on_hand, self._last_numbers = {}, {}
