"""Criteria sets as data: loading the sets of Decisions 920 and 950 from seed/criteria.json, reading them, and
editing a criterion with a history of who changed what (CriterionChange {field: [before, after]}).

Unconfirmed rows arrive advisory (binding = False); an officer with the official text marks them binding."""
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from shop.accounts.models import Role
from shop.audit.models import AutoCheck, CheckKind, CriteriaSet, Criterion, CriterionChange, CriterionGroup
from shop.core import audit_trail
from shop.core.errors import DomainError, NotAllowed
from shop.core.text import nfc
from shop.extensions import db
from shop.sales_points.models import LocationType

CRITERIA_FILE = Path(__file__).resolve().parents[3] / "seed" / "criteria.json"
EDITORS = (Role.ADMIN, Role.TRADE_OFFICER)
EDITABLE = ("requirement_vi", "requirement_en", "source", "confirmed", "binding", "check_kind", "auto_check",
            "params", "position")
# Parameters each automatic check reads, with their defaults and their least allowed value (None allowed where
# the default is None: "no threshold set", the check is then not applicable).
PARAMS: dict[AutoCheck, dict[str, tuple[int | None, int]]] = {
    AutoCheck.FLOOR_AREA: {"min_m2": (None, 0)},
    AutoCheck.RECENT_SALES: {"days": (30, 1)},
}
SOURCE_MAX = 200
_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


# --- reading ------------------------------------------------------------------------------------------------

def list_sets() -> list[CriteriaSet]:
    return list(db.session.scalars(sa.select(CriteriaSet).order_by(CriteriaSet.period_start.desc(),
                                                                   CriteriaSet.id.desc())))


def get_set(set_id: int) -> CriteriaSet | None:
    return db.session.get(CriteriaSet, set_id)


def get_set_by_code(code: str) -> CriteriaSet | None:
    return db.session.scalar(sa.select(CriteriaSet).where(CriteriaSet.code == nfc((code or "").strip())))


def current_set(day: date) -> CriteriaSet | None:
    """The set whose period contains `day`, else the latest one (by period start): the default of audits."""
    containing = db.session.scalar(
        sa.select(CriteriaSet).where(CriteriaSet.period_start <= day,
                                     sa.or_(CriteriaSet.period_end.is_(None), CriteriaSet.period_end >= day))
        .order_by(CriteriaSet.period_start.desc(), CriteriaSet.id.desc()).limit(1))
    if containing is not None:
        return containing
    return db.session.scalar(sa.select(CriteriaSet).order_by(CriteriaSet.period_start.desc(),
                                                            CriteriaSet.id.desc()).limit(1))


def get_criterion(criterion_id: int) -> Criterion | None:
    return db.session.get(Criterion, criterion_id)


def criteria_of(criteria_set: CriteriaSet) -> list[Criterion]:
    return list(db.session.scalars(sa.select(Criterion).where(Criterion.set_id == criteria_set.id)
                                   .order_by(Criterion.position, Criterion.id)))


def automatic_criteria(criteria_set: CriteriaSet) -> list[Criterion]:
    """The criteria of the set that name an automatic check, in their order."""
    return [criterion for criterion in criteria_of(criteria_set) if criterion.auto_check is not None]


def history_of(criterion: Criterion) -> list[CriterionChange]:
    """Its changes, the newest first, with who made them."""
    return list(db.session.scalars(
        sa.select(CriterionChange).where(CriterionChange.criterion_id == criterion.id)
        .options(selectinload(CriterionChange.actor))
        .order_by(CriterionChange.changed_at.desc(), CriterionChange.id.desc())))


def default_params(auto_check: AutoCheck | None) -> dict:
    return {name: default for name, (default, _least) in PARAMS.get(auto_check, {}).items()}


# --- loading the sets ---------------------------------------------------------------------------------------

@dataclass
class LoadReport:
    sets_created: int = 0
    criteria_created: int = 0
    criteria_updated: int = 0
    codes: list[str] = field(default_factory=list)


def read_criteria_file(path: Path = CRITERIA_FILE) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _source_text(source) -> str:
    if isinstance(source, dict):
        text = " — ".join(part for part in (source.get("decision"), source.get("note")) if part)
    else:
        text = str(source)
    return nfc(text)[:SOURCE_MAX]


def _criterion_values(row: dict) -> dict:
    auto_check = AutoCheck(row["auto_check"]) if row.get("auto_check") else None
    check_kind = CheckKind(row["check_kind"])
    params = {**default_params(auto_check), **(row.get("params") or {})}
    _check_consistency(check_kind, auto_check, params)
    return {"group": CriterionGroup(row["group"]), "requirement_vi": nfc(row["requirement_vi"]).strip(),
            "requirement_en": row["requirement_en"].strip(), "source": _source_text(row["source"]),
            "confirmed": bool(row["confirmed"]), "binding": bool(row.get("binding", row["confirmed"])),
            "check_kind": check_kind, "auto_check": auto_check, "params": params,
            "position": int(row.get("position", 0))}


def load_criteria_sets(data: dict | None = None) -> LoadReport:
    """Upsert the sets and their criteria by (set code, criterion code). Idempotent. A criterion nobody has edited
    follows the file (so a corrected file reaches the database); one with a history keeps the officers' values.
    Criteria are never deleted here (audits refer to them)."""
    data = read_criteria_file() if data is None else data
    report = LoadReport()
    for entry in data["sets"]:
        code = nfc(entry["code"])
        report.codes.append(code)
        allowed = [LocationType(value).value for value in entry["allowed_location_types"]]
        criteria_set = get_set_by_code(code)
        if criteria_set is None:
            criteria_set = CriteriaSet(code=code, title=nfc(entry["title"]),
                                       decision_date=_date(entry.get("decision_date")),
                                       period_start=_date(entry["period_start"]),
                                       period_end=_date(entry.get("period_end")), allowed_location_types=allowed)
            db.session.add(criteria_set)
            db.session.flush()
            report.sets_created += 1
        existing = {criterion.code: criterion for criterion in criteria_of(criteria_set)}
        edited = set(db.session.scalars(
            sa.select(CriterionChange.criterion_id).join(Criterion, Criterion.id == CriterionChange.criterion_id)
            .where(Criterion.set_id == criteria_set.id)))
        for row in entry["criteria"]:
            values = _criterion_values(row)
            criterion = existing.get(row["code"])
            if criterion is None:
                db.session.add(Criterion(set_id=criteria_set.id, code=row["code"], **values))
                report.criteria_created += 1
            elif criterion.id not in edited:
                changed = False
                for name, value in values.items():
                    if getattr(criterion, name) != value:
                        setattr(criterion, name, value)
                        changed = True
                report.criteria_updated += changed
    db.session.flush()
    return report


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# --- editing ------------------------------------------------------------------------------------------------

def _plain(value):
    if isinstance(value, (CheckKind, AutoCheck, CriterionGroup)):
        return value.value
    if isinstance(value, dict):
        return dict(value)
    return value


def _check_params(params, auto_check: AutoCheck | None) -> dict:
    if not isinstance(params, dict):
        raise DomainError(str(_l("The parameters must be named whole numbers.")), field="params",
                          code="invalid_params")
    limits = PARAMS.get(auto_check, {})
    for name, value in params.items():
        if not isinstance(name, str) or not _PARAM_NAME.match(name):
            raise DomainError(str(_l("The parameters must be named whole numbers.")), field="params",
                              code="invalid_params")
        default, least = limits.get(name, (0, 0))
        if value is None and default is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < max(least, 0):
            raise DomainError(str(_l("%(name)s must be a whole number of at least %(least)d.", name=name,
                                     least=max(least, 0))), field=name, code="invalid_params")
    return dict(params)


def _check_consistency(check_kind: CheckKind, auto_check: AutoCheck | None, params: dict) -> None:
    if check_kind == CheckKind.EVIDENCE and auto_check is not None:
        raise DomainError(str(_l("A criterion checked only by evidence cannot have an automatic check.")),
                          field="auto_check", code="auto_check_on_evidence")
    _check_params(params, auto_check)


def _clean(name: str, value):
    if name in ("requirement_vi", "requirement_en", "source"):
        text = nfc((value or "").strip())
        if not text:
            message = (_l("The source cannot be empty.") if name == "source"
                       else _l("The requirement cannot be empty."))
            raise DomainError(str(message), field=name, code="required")
        if name == "source" and len(text) > SOURCE_MAX:
            raise DomainError(str(_l("At most %(max)d characters.", max=SOURCE_MAX)), field=name,
                              code="too_long")
        return text
    if name in ("confirmed", "binding"):
        return bool(value)
    if name == "check_kind":
        try:
            return CheckKind(value)
        except ValueError:
            raise DomainError(str(_l("Unknown check kind.")), field=name, code="invalid_choice") from None
    if name == "auto_check":
        if value in (None, ""):
            return None
        try:
            return AutoCheck(value)
        except ValueError:
            raise DomainError(str(_l("Unknown automatic check.")), field=name, code="invalid_choice") from None
    if name == "position":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DomainError(str(_l("The position must be a whole number of at least 0.")), field=name,
                              code="invalid_params")
        return value
    return value  # params: checked with the auto check they belong to


def update_criterion(criterion: Criterion, actor, **fields) -> CriterionChange | None:
    """Change some of EDITABLE; writes one CriterionChange with only the fields that really changed (None when
    nothing did). Refused: an empty requirement or source, parameters that are not non-negative whole numbers,
    an automatic check on a criterion checked only by evidence, an actor who is not an officer or an admin."""
    if getattr(actor, "role", None) not in EDITORS:
        raise NotAllowed(str(_l("Only trade officers and administrators can edit criteria.")))
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise DomainError(str(_l("These fields cannot be edited: %(fields)s.", fields=", ".join(sorted(unknown)))))
    values = {name: _clean(name, value) for name, value in fields.items()}
    check_kind = values.get("check_kind", criterion.check_kind)
    auto_check = values.get("auto_check", criterion.auto_check)
    if "auto_check" in values and "params" not in values and auto_check != criterion.auto_check:
        values["params"] = default_params(auto_check)
    params = values.get("params", criterion.params or {})
    _check_consistency(check_kind, auto_check, params)
    changes = {}
    for name, value in values.items():
        before = getattr(criterion, name)
        if _plain(before) != _plain(value):
            changes[name] = [_plain(before), _plain(value)]
            setattr(criterion, name, value)
    if not changes:
        return None
    change = CriterionChange(criterion_id=criterion.id, actor_id=actor.id, changes=changes)
    db.session.add(change)
    audit_trail.record("audit.criterion_changed", criterion, actor=actor, set_id=criterion.set_id,
                       code=criterion.code, fields=sorted(changes))
    db.session.flush()
    return change


def set_binding(criterion: Criterion, binding: bool, actor) -> CriterionChange | None:
    """Mark an advisory criterion binding (or binding back to advisory), with its history."""
    return update_criterion(criterion, actor, binding=bool(binding))
