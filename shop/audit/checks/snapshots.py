"""Dated snapshots of the automatic checks (`flask audit run`, a nightly job): one CheckSnapshot per point per run,
and the reads built on them: the latest snapshot of each point, what changed between a point's last two runs,
the points failing now."""
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from shop.audit.checks.automatic import POINTS_PER_BATCH, check_points
from shop.audit.models import CheckSnapshot, CriteriaSet, Criterion, Outcome
from shop.core.clock import today
from shop.core.models import utcnow
from shop.extensions import db
from shop.sales_points.models import PointStatus, SalesPoint


def points_to_check(code: str | None = None) -> list[SalesPoint]:
    """Every point that is not closed, by code (or the one point with `code`, whatever its status)."""
    query = sa.select(SalesPoint).options(selectinload(SalesPoint.location_type_rows)).order_by(SalesPoint.code)
    if code:
        return list(db.session.scalars(query.where(SalesPoint.code == code.strip().upper())))
    return list(db.session.scalars(query.where(SalesPoint.status != PointStatus.CLOSED)))


def new_run_id(moment=None) -> str:
    """Timestamp-based and sortable: 20261124T020000.123456Z."""
    return f"{(moment or utcnow()):%Y%m%dT%H%M%S.%f}Z"


@dataclass
class RunReport:
    run_id: str
    set_code: str
    day: date
    points: int = 0
    failing: int = 0           # points failing at least one binding criterion
    advisory_only: int = 0     # points failing only advisory criteria
    failures: dict[str, int] = field(default_factory=dict)  # criterion code -> points failing it
    seconds: float = 0.0


def run_checks_and_store(criteria_set: CriteriaSet, points: list[SalesPoint], *, day: date | None = None,
                         progress: Callable[[int], None] | None = None, run_id: str | None = None) -> RunReport:
    """Compute the set's automatic checks for `points` and add one CheckSnapshot per point (flushes; the caller
    commits). `progress(n)` is told after each batch of n points."""
    started = time.perf_counter()
    day = day or today()
    taken_at = utcnow()
    report = RunReport(run_id=run_id or new_run_id(taken_at), set_code=criteria_set.code, day=day)
    criteria = sorted((c for c in criteria_set.criteria if c.auto_check is not None), key=lambda c: (c.position, c.id))
    binding = {criterion.code: criterion.binding for criterion in criteria}
    for start in range(0, len(points), POINTS_PER_BATCH):
        batch = points[start:start + POINTS_PER_BATCH]
        results = check_points(batch, criteria_set, day, criteria=criteria)
        rows = []
        for point in batch:
            outcomes = results[point.id]
            failed = [code for code, result in outcomes.items() if result.outcome == Outcome.FAIL]
            for code in failed:
                report.failures[code] = report.failures.get(code, 0) + 1
            if any(binding[code] for code in failed):
                report.failing += 1
            elif failed:
                report.advisory_only += 1
            rows.append({"run_id": report.run_id, "set_id": criteria_set.id, "point_id": point.id,
                         "taken_at": taken_at,
                         "passed": sum(r.outcome == Outcome.PASS for r in outcomes.values()), "failed": len(failed),
                         "results": {code: {**result.as_json(), "binding": binding[code]}
                                     for code, result in outcomes.items()}})
        if rows:
            db.session.execute(sa.insert(CheckSnapshot), rows)
        report.points += len(batch)
        if progress is not None:
            progress(len(batch))
    db.session.flush()
    report.seconds = time.perf_counter() - started
    return report


# --- reads ------------------------------------------------------------------------------------------------------

def _ranked(set_id: int, point_id: int | None = None) -> sa.Subquery:
    rank = sa.func.row_number().over(partition_by=CheckSnapshot.point_id,
                                     order_by=(CheckSnapshot.taken_at.desc(), CheckSnapshot.id.desc()))
    query = sa.select(CheckSnapshot.id, rank.label("rank")).where(CheckSnapshot.set_id == set_id)
    if point_id is not None:
        query = query.where(CheckSnapshot.point_id == point_id)
    return query.subquery("ranked")


def latest_snapshots(set_id: int) -> dict[int, CheckSnapshot]:
    """{point id: its most recent snapshot against the set}."""
    ranked = _ranked(set_id)
    rows = db.session.scalars(sa.select(CheckSnapshot).join(ranked, ranked.c.id == CheckSnapshot.id)
                              .where(ranked.c.rank == 1))
    return {snapshot.point_id: snapshot for snapshot in rows}


def snapshots_of(point_id: int, set_id: int, limit: int = 2) -> list[CheckSnapshot]:
    """The point's snapshots against the set, the newest first."""
    return list(db.session.scalars(
        sa.select(CheckSnapshot).where(CheckSnapshot.point_id == point_id, CheckSnapshot.set_id == set_id)
        .order_by(CheckSnapshot.taken_at.desc(), CheckSnapshot.id.desc()).limit(limit)))


@dataclass(frozen=True)
class OutcomeChange:
    code: str
    before: str | None  # None: the criterion was not checked in the earlier run
    after: str | None   # None: no longer checked
    detail: dict


def changes_since_previous(point_id: int, set_id: int) -> list[OutcomeChange]:
    """Criteria whose outcome differs between the point's last two runs (empty with fewer than two runs)."""
    snapshots = snapshots_of(point_id, set_id, limit=2)
    if len(snapshots) < 2:
        return []
    latest, previous = snapshots[0].results or {}, snapshots[1].results or {}
    changes = []
    for code in sorted(set(latest) | set(previous)):
        before = (previous.get(code) or {}).get("outcome")
        after = (latest.get(code) or {}).get("outcome")
        if before != after:
            changes.append(OutcomeChange(code, before, after, (latest.get(code) or {}).get("detail") or {}))
    return changes


def failing_now(set_id: int, *, binding_only: bool = True) -> list[tuple[SalesPoint, CheckSnapshot, list[str]]]:
    """Points whose latest snapshot fails a criterion (a binding one by default), with the failing codes, by code."""
    snapshots = latest_snapshots(set_id)
    points = {point.id: point for point in db.session.scalars(
        sa.select(SalesPoint).where(SalesPoint.id.in_(list(snapshots))))} if snapshots else {}
    found = []
    for point_id, snapshot in snapshots.items():
        codes = [code for code, result in (snapshot.results or {}).items()
                 if result.get("outcome") == Outcome.FAIL.value and (result.get("binding", True) or not binding_only)]
        if codes and point_id in points:
            found.append((points[point_id], snapshot, sorted(codes)))
    return sorted(found, key=lambda item: item[0].code)


def criteria_by_code(set_id: int) -> dict[str, Criterion]:
    return {criterion.code: criterion
            for criterion in db.session.scalars(sa.select(Criterion).where(Criterion.set_id == set_id))}
