"""The compliance dashboard's reads: for one criteria set, every sales point with its latest concluded verdict,
its automatic checks now (latest CheckSnapshot), what changed since that audit and its open findings.

A fixed handful of statements whatever the number of points (no per-point query): the sets, the set's
criteria, the points, the latest concluded audits, their results, the open findings and the latest snapshots.
Filters apply in Python to the loaded points, so the filter choices (districts, communes present) come for free.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from shop.audit.models import (
    Audit,
    AuditFinding,
    AuditResult,
    AuditStatus,
    CheckKind,
    CheckSnapshot,
    CriteriaSet,
    Criterion,
    FindingStatus,
    Outcome,
    Verdict,
)
from shop.core import admin_units
from shop.extensions import db
from shop.sales_points.models import PointStatus, PointTier, SalesPoint

NOT_AUDITED = "not_audited"
# The legend's order: best first, then points with no concluded audit for the set.
VERDICT_KEYS = (Verdict.MEETS.value, Verdict.MEETS_WITH_CONDITIONS.value, Verdict.DOES_NOT_MEET.value, NOT_AUDITED)


# --- criteria sets ------------------------------------------------------------------------------------------------

def criteria_sets() -> list[CriteriaSet]:
    """Newest period first."""
    return list(db.session.scalars(sa.select(CriteriaSet).order_by(CriteriaSet.period_start.desc(),
                                                                   CriteriaSet.id.desc())))


def current_set(sets: list[CriteriaSet], day: date) -> CriteriaSet | None:
    """The set whose period contains `day` (the latest-starting one if several do), else the newest."""
    in_force = [s for s in sets if s.period_start <= day and (s.period_end is None or day <= s.period_end)]
    pool = in_force or sets
    return max(pool, key=lambda s: (s.period_start, s.id), default=None)


# --- filters ------------------------------------------------------------------------------------------------------

def _enum_or_none(enum, value):
    try:
        return enum(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    tier: PointTier | None = None
    former_district: str | None = None
    ward_code: int | None = None
    status: PointStatus | None = None
    verdict: str | None = None  # a Verdict value or NOT_AUDITED

    @classmethod
    def parse(cls, args) -> "Filters":
        """From query-string values (a mapping of str); anything unknown is ignored, never an error."""
        district = args.get("district") or None
        try:
            ward = int(args.get("ward") or 0) or None
        except ValueError:
            ward = None
        verdict = args.get("verdict") or None
        return cls(tier=_enum_or_none(PointTier, args.get("tier")),
                   former_district=district if district in admin_units.FORMER_DISTRICTS else None,
                   ward_code=ward, status=_enum_or_none(PointStatus, args.get("status")),
                   verdict=verdict if verdict in VERDICT_KEYS else None)

    def matches_point(self, point: SalesPoint) -> bool:
        return ((self.tier is None or point.tier == self.tier)
                and (self.former_district is None or point.former_district == self.former_district)
                and (self.ward_code is None or point.ward_code == self.ward_code)
                and (self.status is None or point.status == self.status))

    @property
    def active(self) -> bool:
        return any(value is not None for value in (self.tier, self.former_district, self.ward_code, self.status,
                                                    self.verdict))


# --- rows ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """An automatic criterion whose outcome now differs from the one the latest concluded audit recorded."""

    code: str
    before: str  # Outcome value at the audit
    now: str     # Outcome value in the latest snapshot


@dataclass(frozen=True)
class OpenFinding:
    description: str
    deadline: date | None
    criterion_code: str | None
    overdue: bool


@dataclass
class PointRow:
    point: SalesPoint
    audit: Audit | None = None
    snapshot: CheckSnapshot | None = None
    failing: list[str] = field(default_factory=list)   # criterion codes failing in the latest snapshot
    changes: list[Change] = field(default_factory=list)
    findings: list[OpenFinding] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return Verdict(self.audit.verdict).value if self.audit is not None else NOT_AUDITED

    @property
    def verdict_on(self) -> datetime | None:
        return self.audit.concluded_at if self.audit is not None else None

    @property
    def overdue(self) -> list[OpenFinding]:
        return [finding for finding in self.findings if finding.overdue]

    @property
    def has_location(self) -> bool:
        return self.point.latitude is not None and self.point.longitude is not None


@dataclass
class Dashboard:
    criteria_set: CriteriaSet | None
    filters: Filters
    rows: list[PointRow]                 # the points that match every filter, by code
    counts: dict[str, int]               # per verdict key, over the points matching every filter but the verdict
    districts: list[tuple[str, str]]     # (key, name) of the former districts the points stand in
    wards: list[tuple[int, str]]         # (code, name) of the communes the points stand in
    snapshot_at: datetime | None         # when the newest snapshot among the shown points was taken

    @property
    def counted(self) -> int:
        return sum(self.counts.values())

    @property
    def failing_now(self) -> list[PointRow]:
        return [row for row in self.rows if row.snapshot is not None and row.snapshot.failed > 0]

    @property
    def changed(self) -> list[PointRow]:
        return [row for row in self.rows if row.changes]

    @property
    def located(self) -> int:
        return sum(1 for row in self.rows if row.has_location)


def _ranked(statement, *, partition, order):
    """`statement` with a row_number() column `rank` per `partition`; rank 1 is the first by `order`."""
    return statement.add_columns(sa.func.row_number().over(partition_by=partition, order_by=order).label("rank"))


def _latest_concluded_audits(set_id: int):
    """Subquery of the ids of each point's latest concluded audit against the set."""
    ranked = _ranked(sa.select(Audit.id.label("audit_id")), partition=Audit.point_id,
                     order=(Audit.concluded_at.desc(), Audit.id.desc())) \
        .where(Audit.set_id == set_id, Audit.status == AuditStatus.CONCLUDED).subquery()
    return sa.select(ranked.c.audit_id).where(ranked.c.rank == 1)


def _latest_snapshots(set_id: int) -> dict[int, CheckSnapshot]:
    ranked = _ranked(sa.select(CheckSnapshot.id.label("snapshot_id")), partition=CheckSnapshot.point_id,
                     order=(CheckSnapshot.taken_at.desc(), CheckSnapshot.id.desc())) \
        .where(CheckSnapshot.set_id == set_id).subquery()
    latest = sa.select(ranked.c.snapshot_id).where(ranked.c.rank == 1)
    return {snapshot.point_id: snapshot
            for snapshot in db.session.scalars(sa.select(CheckSnapshot).where(CheckSnapshot.id.in_(latest)))}


def _outcome_of(entry) -> str | None:
    """The outcome stored in a snapshot's results entry ({"outcome": …, "detail": …})."""
    value = entry.get("outcome") if isinstance(entry, dict) else entry
    return str(value) if value else None


def _open_findings(day: date) -> dict[int, list[OpenFinding]]:
    """Open findings of every audit past the draft stage, per point, soonest deadline first."""
    rows = db.session.execute(
        sa.select(Audit.point_id, AuditFinding.description, AuditFinding.deadline, Criterion.code)
        .join(Audit, AuditFinding.audit_id == Audit.id)
        .outerjoin(Criterion, AuditFinding.criterion_id == Criterion.id)
        .where(AuditFinding.status == FindingStatus.OPEN, Audit.status != AuditStatus.DRAFT)
        .order_by(Audit.point_id, AuditFinding.deadline.is_(None), AuditFinding.deadline, AuditFinding.id))
    found: dict[int, list[OpenFinding]] = defaultdict(list)
    for point_id, description, deadline, code in rows:
        found[point_id].append(OpenFinding(description, deadline, code,
                                           overdue=deadline is not None and deadline < day))
    return found


def build_dashboard(criteria_set: CriteriaSet | None, filters: Filters, day: date) -> Dashboard:
    points = list(db.session.scalars(sa.select(SalesPoint).order_by(SalesPoint.code)))
    rows = {point.id: PointRow(point) for point in points}
    snapshot_at = None
    if criteria_set is not None:
        criteria = list(db.session.scalars(sa.select(Criterion).where(Criterion.set_id == criteria_set.id)))
        position = {c.code: (c.position, c.id) for c in criteria}
        automatic = {c.id for c in criteria if c.check_kind != CheckKind.EVIDENCE or c.auto_check is not None}

        latest = _latest_concluded_audits(criteria_set.id)
        for audit in db.session.scalars(sa.select(Audit).where(Audit.id.in_(latest))):
            if audit.point_id in rows:
                rows[audit.point_id].audit = audit
        recorded: dict[int, dict[str, str]] = defaultdict(dict)  # audit id -> {criterion code: outcome}
        for audit_id, criterion_id, code, outcome, auto_outcome in db.session.execute(
                sa.select(AuditResult.audit_id, AuditResult.criterion_id, Criterion.code, AuditResult.outcome,
                          AuditResult.auto_outcome)
                .join(Criterion, AuditResult.criterion_id == Criterion.id)
                .where(AuditResult.audit_id.in_(latest))):
            value = outcome or auto_outcome
            if criterion_id in automatic and value is not None:
                recorded[audit_id][code] = Outcome(value).value

        def order(code):
            return position.get(code, (10**6, 0)), code

        for point_id, snapshot in _latest_snapshots(criteria_set.id).items():
            row = rows.get(point_id)
            if row is None:
                continue
            row.snapshot = snapshot
            results = snapshot.results or {}
            row.failing = sorted((code for code, entry in results.items() if _outcome_of(entry) == Outcome.FAIL),
                                 key=order)
            audit = row.audit
            # Only a snapshot taken after the audit says what changed since; an older one is history.
            if audit is not None and audit.concluded_at is not None and snapshot.taken_at >= audit.concluded_at:
                before = recorded.get(audit.id, {})
                row.changes = [Change(code, before[code], now)
                               for code in sorted(results, key=order)
                               if code in before and (now := _outcome_of(results[code])) and now != before[code]]

    for point_id, findings in _open_findings(day).items():
        if point_id in rows:
            rows[point_id].findings = findings

    matching = [row for row in rows.values() if filters.matches_point(row.point)]
    counts = dict.fromkeys(VERDICT_KEYS, 0)
    for row in matching:
        counts[row.verdict] += 1
    shown = [row for row in matching if filters.verdict is None or row.verdict == filters.verdict]
    taken = [row.snapshot.taken_at for row in shown if row.snapshot is not None]
    if taken:
        snapshot_at = max(taken)
    districts = sorted({p.former_district for p in points if p.former_district in admin_units.FORMER_DISTRICTS},
                       key=lambda key: admin_units.former_district_name(key))
    wards = sorted({(p.ward_code, admin_units.ward_name(p.ward_code)) for p in points if p.ward_code},
                   key=lambda item: item[1])
    return Dashboard(criteria_set=criteria_set, filters=filters, rows=shown, counts=counts,
                     districts=[(key, admin_units.former_district_name(key)) for key in districts],
                     wards=[(code, name or str(code)) for code, name in wards], snapshot_at=snapshot_at)


# --- the chart: a horizontal bar per verdict, server-rendered SVG ----------------------------------------------------

@dataclass(frozen=True)
class VerdictBar:
    key: str
    count: int
    y: float
    width: float
    percent: int


@dataclass(frozen=True)
class VerdictChart:
    width: int
    height: int
    label_width: int
    bar_height: int
    total: int
    bars: list[VerdictBar]


def verdict_chart(counts: dict[str, int], width: int = 640, bar_height: int = 26, gap: int = 10,
                  label_width: int = 230) -> VerdictChart:
    """Bars scaled to the largest count, after a column of `label_width` for the verdict's words."""
    total = sum(counts.values())
    peak = max(counts.values(), default=0)
    plot = width - label_width - 60  # room for the number after the bar
    bars = []
    for index, key in enumerate(VERDICT_KEYS):
        count = counts.get(key, 0)
        bar_width = max(plot * count / peak, 2) if peak and count else 0
        bars.append(VerdictBar(key, count, y=index * (bar_height + gap), width=round(bar_width, 2),
                               percent=round(100 * count / total) if total else 0))
    height = len(VERDICT_KEYS) * (bar_height + gap) - gap
    return VerdictChart(width, height, label_width, bar_height, total, bars)
