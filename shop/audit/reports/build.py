"""The trade department's periodic report (quarter, half-year, year or any date range), as plain data: a list
of tables, each with a title, column headers, rows and a totals row. The HTML page, the XLSX and PDF files and
`flask report` all render the same `Report`, so they always agree.

Every figure is aggregated in SQL (GROUP BY), never row by row in Python, so the yearly report over the scale
data (20,000 products, 1,000 points, a million ledger rows) stays a matter of seconds.

Definitions (the dates are the province's calendar dates, both ends included):
- *Products evaluated in the period*: products with a certificate (any stars) whose decision date is in the
  period. A product rated twice in the period counts once, with its latest rating (the latest decision, then
  the latest record). *Certified* means that rating is 3★ or more. The stars, group, level and locality tables
  break down that same set, so their totals are the number of products evaluated.
- *Producers*: the producers of those products; a producer is counted once whatever the number of its
  products. *New producers*: producers whose first certificate ever was decided in the period.
- *Points by tier and verdict*: the points of the registry that are not closed, with the verdict of their
  latest audit concluded on or before the period's last day ("not audited" when none).
- *Sales*: counter sales rung up in the period (gross, as on the receipt: total_vnd; units of the lines) and
  online orders handed over in the period (their order_fulfilment ledger rows, valued at the order line's unit
  price). *Stock*: the units on hand at the end of the period's last day, the sum of the point's ledger rows up
  to then (exact, whatever happened since).
- *Certificates expiring*: valid_until in the period, neither withdrawn nor superseded before that day.
  *Withdrawn*: withdrawn_on in the period.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from shop.audit.models import Audit, AuditStatus, Verdict
from shop.audit.reports.periods import Period, PeriodError, date_range, utc_bounds
from shop.audit.reports.tables import DATE, INT, VND, Column, Report, Table
from shop.catalog.groups import GROUPS
from shop.catalog.models import Product
from shop.certification.models import MIN_CERTIFIED_STARS, Certificate, IssuingLevel
from shop.core.admin_units import FORMER_DISTRICTS, ward_name
from shop.core.clock import format_date
from shop.core.models import utcnow
from shop.extensions import db
from shop.inventory.models import CounterSale, CounterSaleLine, MovementKind, StockMovement
from shop.orders.models import Order, OrderLine
from shop.producers.models import LegalForm, Producer
from shop.sales_points.models import PointStatus, PointTier, SalesPoint

# --- labels --------------------------------------------------------------------------------------------------

NOT_AUDITED = "not_audited"
# Short names for the spreadsheet tabs.
SHEETS = {"summary": _l("Key figures"),
          "stars": _l("By stars"),
          "groups": _l("By product group"),
          "levels": _l("By level"),
          "localities": _l("By locality"),
          "legal_forms": _l("Producers by legal form"),
          "new_producers": _l("New producers"),
          "points": _l("Points by verdict"),
          "sales": _l("Sales and stock"),
          "expiring": _l("Expiring certificates"),
          "withdrawn": _l("Withdrawn certificates")}


# --- building it -----------------------------------------------------------------------------------------------

def _locale() -> str:
    locale = get_locale()
    return locale.language if locale else "vi"


def _latest_in_period(start: date, end: date) -> sa.Subquery:
    """One row per product evaluated in the period: its latest certificate decided in the period."""
    rank = sa.func.row_number().over(partition_by=Certificate.product_id,
                                     order_by=(Certificate.decision_date.desc(), Certificate.id.desc()))
    ranked = (sa.select(Certificate.id, Certificate.product_id, Certificate.stars, Certificate.level,
                        rank.label("rank"))
              .where(Certificate.decision_date >= start, Certificate.decision_date <= end).subquery("ranked"))
    return (sa.select(ranked.c.id, ranked.c.product_id, ranked.c.stars, ranked.c.level,
                      Product.producer_id, Product.group_code)
            .join(Product, Product.id == ranked.c.product_id).where(ranked.c.rank == 1).subquery("evaluated"))


def _first_certificates() -> sa.Subquery:
    return (sa.select(Product.producer_id, sa.func.min(Certificate.decision_date).label("first_date"))
            .join(Product, Product.id == Certificate.product_id).group_by(Product.producer_id).subquery("firsts"))


def _certified(column):
    return sa.case((column >= MIN_CERTIFIED_STARS, 1), else_=0)


def _rows(statement) -> list:
    return list(db.session.execute(statement).all())


def build_report(start: date, end: date, *, period: Period | None = None, progress=None) -> Report:
    """The report of [start, end] (both included). `progress(step_name)` is called after each table."""
    period = period or date_range(start, end)
    if period.end < period.start:
        raise PeriodError(str(_l("The start of the period is after its end.")), field="end")
    builders = [_summary_and_stars, _by_group, _by_level, _by_locality, _producers_by_form, _new_producers,
                _points_by_verdict, _sales_and_stock, _expiring, _withdrawn]
    tables: list[Table] = []
    context = {"evaluated": _latest_in_period(period.start, period.end)}
    for builder in builders:
        result = builder(period.start, period.end, context)
        for table in result if isinstance(result, list) else [result]:
            table.sheet = str(SHEETS[table.key])
            tables.append(table)
        if progress:
            progress(builder.__name__.strip("_"))
    return Report(period=period, generated_at=utcnow(), tables=tables)


def _summary_and_stars(start: date, end: date, context: dict) -> list[Table]:
    evaluated = context["evaluated"]
    by_stars = dict(_rows(sa.select(evaluated.c.stars, sa.func.count()).group_by(evaluated.c.stars)))
    products, certified, producers, certified_producers = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(_certified(evaluated.c.stars)), 0),
                  sa.func.count(sa.distinct(evaluated.c.producer_id)),
                  sa.func.count(sa.distinct(sa.case((evaluated.c.stars >= MIN_CERTIFIED_STARS,
                                                     evaluated.c.producer_id)))))).one()
    firsts = _first_certificates()
    new_producers = db.session.scalar(sa.select(sa.func.count()).select_from(firsts)
                                      .where(firsts.c.first_date >= start, firsts.c.first_date <= end))
    context["new_producers"] = new_producers
    stars_table = Table("stars", str(_l("Products evaluated in the period, by stars")),
                        [Column(str(_l("Stars"))), Column(str(_l("Products")), INT)])
    for stars in (5, 4, 3, 2, 1):
        stars_table.rows.append([f"{stars}★", int(by_stars.get(stars, 0))])
    stars_table.totals = [str(_l("Total")), int(products)]
    stars_table.note = str(_l("3★ or more: certified OCOP products. A product rated twice in the period counts "
                              "once, with its latest rating."))
    context["summary"] = summary = Table("summary", str(_l("Key figures")),
                                         [Column(str(_l("Figure"))), Column(str(_l("Value")), INT)])
    summary.rows = [
        [str(_l("Products evaluated and ranked (certificates decided in the period)")), int(products)],
        [str(_l("of which certified 3★ or more")), int(certified)],
        [str(_l("of which 5★")), int(by_stars.get(5, 0))],
        [str(_l("of which 4★")), int(by_stars.get(4, 0))],
        [str(_l("of which 3★")), int(by_stars.get(3, 0))],
        [str(_l("of which below 3★")), int(by_stars.get(2, 0)) + int(by_stars.get(1, 0))],
        [str(_l("Producers (economic entities) of these products")), int(producers)],
        [str(_l("Producers with a product certified 3★ or more")), int(certified_producers)],
        [str(_l("New producers (first certificate in the period)")), int(new_producers)],
    ]
    return [summary, stars_table]


def _by_group(start: date, end: date, context: dict) -> Table:
    evaluated = context["evaluated"]
    counts = {code: (n, c) for code, n, c in _rows(
        sa.select(evaluated.c.group_code, sa.func.count(), sa.func.sum(_certified(evaluated.c.stars)))
        .group_by(evaluated.c.group_code))}
    locale = _locale()
    table = Table("groups", str(_l("Products evaluated in the period, by product group")),
                  [Column(str(_l("Group"))), Column(str(_l("Products")), INT),
                   Column(str(_l("Certified 3★ or more")), INT)])
    for code, group in GROUPS.items():
        products, certified = counts.pop(code, (0, 0))
        table.rows.append([f"{code}. {group.label(locale)}", int(products), int(certified or 0)])
    for code, (products, certified) in sorted(counts.items()):  # a code outside the list (old data)
        table.rows.append([str(code), int(products), int(certified or 0)])
    table.totals = [str(_l("Total")), sum(r[1] for r in table.rows), sum(r[2] for r in table.rows)]
    return table


def _by_level(start: date, end: date, context: dict) -> Table:
    evaluated = context["evaluated"]
    counts = dict(_rows(sa.select(evaluated.c.level, sa.func.count()).group_by(evaluated.c.level)))
    counts = {IssuingLevel(level): n for level, n in counts.items()}
    table = Table("levels", str(_l("Products evaluated in the period, by recognising level")),
                  [Column(str(_l("Level"))), Column(str(_l("Products")), INT)])
    for level, label in IssuingLevel.labels().items():
        table.rows.append([str(label), int(counts.get(level, 0))])
    table.totals = [str(_l("Total")), sum(r[1] for r in table.rows)]
    return table


def _by_locality(start: date, end: date, context: dict) -> Table:
    evaluated = context["evaluated"]
    rows = _rows(sa.select(Producer.former_district, Producer.ward_code, sa.func.count(),
                           sa.func.count(sa.distinct(Producer.id)), sa.func.sum(_certified(evaluated.c.stars)))
                 .join(Producer, Producer.id == evaluated.c.producer_id)
                 .group_by(Producer.former_district, Producer.ward_code))
    order = list(FORMER_DISTRICTS)
    unknown = str(_l("(not recorded)"))

    def district_label(key):
        return FORMER_DISTRICTS.get(key or "", key or unknown)

    table = Table("localities", str(_l("Products evaluated in the period, by locality of the producer")),
                  [Column(str(_l("Former district"))), Column(str(_l("Commune or ward"))),
                   Column(str(_l("Producers")), INT), Column(str(_l("Products")), INT),
                   Column(str(_l("Certified 3★ or more")), INT)])
    items = [[district_label(district), ward_name(ward) or unknown, int(producers), int(products),
              int(certified or 0), order.index(district) if district in order else len(order)]
             for district, ward, products, producers, certified in rows]
    items.sort(key=lambda item: (item[5], item[0], item[1]))
    table.rows = [item[:5] for item in items]
    table.totals = [str(_l("Total")), "", sum(r[2] for r in table.rows), sum(r[3] for r in table.rows),
                    sum(r[4] for r in table.rows)]
    return table


def _producers_by_form(start: date, end: date, context: dict) -> Table:
    evaluated = context["evaluated"]
    firsts = _first_certificates()
    is_new = sa.case((sa.and_(firsts.c.first_date >= start, firsts.c.first_date <= end), 1), else_=0)
    per_producer = (sa.select(evaluated.c.producer_id, sa.func.count().label("products"),
                              sa.func.sum(_certified(evaluated.c.stars)).label("certified"))
                    .group_by(evaluated.c.producer_id).subquery("per_producer"))
    counts = {LegalForm(form): (n, products, certified, new) for form, n, products, certified, new in _rows(
        sa.select(Producer.legal_form, sa.func.count(), sa.func.sum(per_producer.c.products),
                  sa.func.sum(sa.case((per_producer.c.certified > 0, 1), else_=0)), sa.func.sum(is_new))
        .join(Producer, Producer.id == per_producer.c.producer_id)
        .join(firsts, firsts.c.producer_id == per_producer.c.producer_id)
        .group_by(Producer.legal_form))}
    table = Table("legal_forms", str(_l("Producers of the products evaluated in the period, by legal form")),
                  [Column(str(_l("Legal form"))), Column(str(_l("Producers")), INT),
                   Column(str(_l("with a product certified 3★ or more")), INT),
                   Column(str(_l("of which new producers")), INT), Column(str(_l("Products")), INT)])
    for form, label in LegalForm.labels().items():
        producers, products, certified, new = counts.get(form, (0, 0, 0, 0))
        table.rows.append([str(label), int(producers), int(certified or 0), int(new or 0), int(products or 0)])
    table.totals = [str(_l("Total"))] + [sum(r[i] for r in table.rows) for i in (1, 2, 3, 4)]
    return table


def _new_producers(start: date, end: date, context: dict) -> Table:
    firsts = _first_certificates()
    in_period = (sa.select(Certificate.product_id).where(Certificate.decision_date >= start,
                                                         Certificate.decision_date <= end))
    products = (sa.select(Product.producer_id, sa.func.count(sa.distinct(Product.id)).label("products"))
                .where(Product.id.in_(in_period)).group_by(Product.producer_id).subquery("new_products"))
    rows = _rows(sa.select(Producer.name, Producer.legal_form, Producer.former_district, Producer.ward_code,
                           firsts.c.first_date, sa.func.coalesce(products.c.products, 0))
                 .join(firsts, firsts.c.producer_id == Producer.id)
                 .outerjoin(products, products.c.producer_id == Producer.id)
                 .where(firsts.c.first_date >= start, firsts.c.first_date <= end)
                 .order_by(firsts.c.first_date, Producer.name, Producer.id))
    table = Table("new_producers", str(_l("New producers: first certificate in the period")),
                  [Column(str(_l("Producer"))), Column(str(_l("Legal form"))), Column(str(_l("Former district"))),
                   Column(str(_l("Commune or ward"))), Column(str(_l("First decision")), DATE),
                   Column(str(_l("Products evaluated")), INT)])
    table.rows = [[name, str(LegalForm.labels().get(LegalForm(form), form)), FORMER_DISTRICTS.get(district or "", ""),
                   ward_name(ward), first, int(count)] for name, form, district, ward, first, count in rows]
    table.totals = [str(_l("Total: %(n)s producers", n=len(rows))), "", "", "", None,
                    sum(r[5] for r in table.rows)]
    return table


def _points_by_verdict(start: date, end: date, context: dict) -> Table:
    _, end_bound = utc_bounds(start, end)
    rank = sa.func.row_number().over(partition_by=Audit.point_id,
                                     order_by=(Audit.concluded_at.desc(), Audit.id.desc()))
    ranked = (sa.select(Audit.point_id, Audit.verdict, rank.label("rank"))
              .where(Audit.status == AuditStatus.CONCLUDED, Audit.concluded_at < end_bound).subquery("ranked"))
    latest = sa.select(ranked.c.point_id, ranked.c.verdict).where(ranked.c.rank == 1).subquery("latest")
    rows = _rows(sa.select(SalesPoint.tier, latest.c.verdict, sa.func.count())
                 .outerjoin(latest, latest.c.point_id == SalesPoint.id)
                 .where(SalesPoint.status != PointStatus.CLOSED)
                 .group_by(SalesPoint.tier, latest.c.verdict))
    counts: dict[tuple, int] = {}
    for tier, verdict, n in rows:
        key = (PointTier(tier), Verdict(verdict) if verdict else NOT_AUDITED)
        counts[key] = counts.get(key, 0) + int(n)
    buckets = list(Verdict.labels()) + [NOT_AUDITED]
    table = Table("points", str(_l("Sales points by tier and verdict of their latest concluded audit")),
                  [Column(str(_l("Tier")))] + [Column(str(label), INT) for label in Verdict.labels().values()]
                  + [Column(str(_l("Not audited")), INT), Column(str(_l("Total")), INT)])
    for tier, label in PointTier.labels().items():
        values = [counts.get((tier, bucket), 0) for bucket in buckets]
        table.rows.append([str(label), *values, sum(values)])
    table.totals = [str(_l("Total"))] + [sum(r[i] for r in table.rows) for i in range(1, len(buckets) + 2)]
    table.note = str(_l("Points of the registry that are not closed; audits concluded up to %(day)s.",
                        day=format_date(end)))
    return table


def _sales_and_stock(start: date, end: date, context: dict) -> Table:
    start_bound, end_bound = utc_bounds(start, end)
    counter = {point: (n, vnd) for point, n, vnd in _rows(
        sa.select(CounterSale.point_id, sa.func.count(), sa.func.sum(sa.cast(CounterSale.total_vnd, sa.BigInteger)))
        .where(CounterSale.created_at >= start_bound, CounterSale.created_at < end_bound)
        .group_by(CounterSale.point_id))}
    counter_units = dict(_rows(
        sa.select(CounterSale.point_id, sa.func.sum(CounterSaleLine.quantity))
        .join(CounterSaleLine, CounterSaleLine.sale_id == CounterSale.id)
        .where(CounterSale.created_at >= start_bound, CounterSale.created_at < end_bound)
        .group_by(CounterSale.point_id)))
    orders = {point: (units, vnd) for point, units, vnd in _rows(
        sa.select(StockMovement.point_id, -sa.func.sum(StockMovement.quantity),
                  -sa.func.sum(sa.cast(StockMovement.quantity, sa.BigInteger) * OrderLine.unit_price_vnd))
        .join(Order, sa.and_(Order.number == StockMovement.reference, Order.point_id == StockMovement.point_id))
        .join(OrderLine, sa.and_(OrderLine.order_id == Order.id, OrderLine.product_id == StockMovement.product_id))
        .where(StockMovement.kind == MovementKind.ORDER_FULFILMENT, StockMovement.occurred_at >= start_bound,
               StockMovement.occurred_at < end_bound)
        .group_by(StockMovement.point_id))}
    stock = dict(_rows(sa.select(StockMovement.point_id, sa.func.sum(StockMovement.quantity))
                       .where(StockMovement.occurred_at < end_bound).group_by(StockMovement.point_id)))
    active = set(counter) | set(orders) | {point for point, units in stock.items() if units}
    points = _rows(sa.select(SalesPoint.id, SalesPoint.code, SalesPoint.name).order_by(SalesPoint.code)) \
        if active else []
    table = Table("sales", str(_l("Sales in the period and stock at its end, by sales point")),
                  [Column(str(_l("Code"))), Column(str(_l("Sales point"))),
                   Column(str(_l("Counter sales")), INT), Column(str(_l("Counter units")), INT),
                   Column(str(_l("Counter sales (VND)")), VND), Column(str(_l("Order units")), INT),
                   Column(str(_l("Orders (VND)")), VND), Column(str(_l("Total sales (VND)")), VND),
                   Column(str(_l("Units in stock at the end")), INT)])
    for point_id, code, name in points:
        if point_id not in active:
            continue
        sales, counter_vnd = counter.get(point_id, (0, 0))
        order_units, order_vnd = orders.get(point_id, (0, 0))
        counter_vnd, order_vnd = int(counter_vnd or 0), int(order_vnd or 0)
        table.rows.append([code, name, int(sales), int(counter_units.get(point_id) or 0), counter_vnd,
                           int(order_units or 0), order_vnd, counter_vnd + order_vnd, int(stock.get(point_id) or 0)])
    table.totals = [str(_l("Total")), ""] + [sum(r[i] for r in table.rows) for i in range(2, 9)]
    table.note = str(_l("Counter sales are gross, as rung up; orders count when handed over. Only points with "
                        "sales or stock are listed."))
    return table


def _certificate_list(key: str, title: str, date_column, extra: list[Column], extra_values, where) -> Table:
    rows = _rows(sa.select(Product.name, Producer.name, Certificate.stars, Certificate.decision_no,
                           Certificate.decision_date, date_column, *extra_values)
                 .join(Product, Product.id == Certificate.product_id)
                 .join(Producer, Producer.id == Product.producer_id)
                 .where(*where).order_by(date_column, Product.name, Certificate.id))
    table = Table(key, title, [Column(str(_l("Product"))), Column(str(_l("Producer"))), Column(str(_l("Stars")), INT),
                               Column(str(_l("Decision"))), Column(str(_l("Decision date")), DATE)] + extra)
    table.rows = [list(row) for row in rows]
    table.totals = [str(_l("Total: %(n)s certificates", n=len(rows)))] + [None] * (len(table.columns) - 1)
    return table


def _expiring(start: date, end: date, context: dict) -> Table:
    return _certificate_list(
        "expiring", str(_l("Certificates expiring in the period")), Certificate.valid_until,
        [Column(str(_l("Valid until")), DATE)], [],
        [Certificate.valid_until >= start, Certificate.valid_until <= end,
         sa.or_(Certificate.withdrawn_on.is_(None), Certificate.withdrawn_on > Certificate.valid_until),
         sa.or_(Certificate.superseded_on.is_(None), Certificate.superseded_on > Certificate.valid_until)])


def _withdrawn(start: date, end: date, context: dict) -> Table:
    return _certificate_list(
        "withdrawn", str(_l("Certificates withdrawn in the period")), Certificate.withdrawn_on,
        [Column(str(_l("Withdrawn on")), DATE), Column(str(_l("Withdrawal decision"))), Column(str(_l("Reason")))],
        [Certificate.withdrawal_decision_no, Certificate.withdrawal_reason],
        [Certificate.withdrawn_on >= start, Certificate.withdrawn_on <= end])
