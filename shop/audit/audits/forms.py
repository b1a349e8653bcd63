"""Forms of audits and evidence (shape only: the rules are in shop.audit.audits.services and
shop.audit.audits.evidence), and the labels the audit pages show."""
import re
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from shop.audit.models import Outcome, Verdict
from shop.core.clock import format_date, format_datetime
from shop.core.forms import REQUIRED, LocalDateField, at_most, required
from shop.sales_points.models import LocationType

NOTE_MAX = 2000


class ActionForm(FlaskForm):
    """A button that changes something (submit, refresh, re-audit): only the CSRF token."""


class StartAuditForm(FlaskForm):
    point_id = SelectField(_l("Sales point"), coerce=int, validators=[required()], validate_choice=False)
    set_id = SelectField(_l("Criteria set"), coerce=int, validators=[required()], validate_choice=False)

    def __init__(self, *args, points=(), sets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.point_id.choices = [SelectChoice(0, _l("Choose a point"))] + [
            SelectChoice(p.id, f"{p.code} · {p.name}") for p in points]
        self.set_id.choices = [SelectChoice(s.id, f"{s.code} · {s.title}") for s in sets]


def outcome_field_name(criterion_id: int) -> str:
    return f"outcome_{criterion_id}"


def note_field_name(criterion_id: int) -> str:
    return f"note_{criterion_id}"


class _ResultsForm(FlaskForm):
    criterion_ids: tuple[int, ...] = ()

    def entries(self) -> dict[int, tuple]:
        """{criterion id: (outcome or None, note)} as posted."""
        return {cid: (self[outcome_field_name(cid)].data or None, self[note_field_name(cid)].data)
                for cid in self.criterion_ids}


def results_form_for(audit, posted: bool = False):
    """A form with an outcome (pass / fail / not applicable) and a note per criterion of the audit: what was posted,
    or (posted=False) the audit's recorded outcomes."""
    ids = [result.criterion_id for result in audit.results]
    fields = {"criterion_ids": tuple(ids)}
    for cid in ids:
        fields[outcome_field_name(cid)] = RadioField(
            _l("Outcome"), choices=[SelectChoice(o.value, o.label) for o in Outcome], validate_choice=False,
            validators=[Optional()])
        fields[note_field_name(cid)] = TextAreaField(_l("Note"), validators=[Optional(), at_most(NOTE_MAX)])
    form_class = type("ResultsForm", (_ResultsForm,), fields)
    if posted:
        return form_class()
    form = form_class(formdata=None)
    for result in audit.results:
        form[outcome_field_name(result.criterion_id)].data = result.outcome.value if result.outcome else None
        form[note_field_name(result.criterion_id)].data = result.note or ""
    return form


class FindingForm(FlaskForm):
    description = TextAreaField(_l("Finding"), validators=[required(), at_most(NOTE_MAX)])
    deadline = LocalDateField(_l("Deadline"), validators=[Optional()])
    criterion_id = SelectField(_l("Criterion"), coerce=int, validate_choice=False, default=0)

    def __init__(self, *args, audit=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.criterion_id.choices = [SelectChoice(0, _l("No particular criterion"))] + [
            SelectChoice(r.criterion_id, r.criterion.code) for r in
            sorted(audit.results if audit else [], key=lambda r: (r.criterion.position, r.criterion.id))]


class ResolveForm(FlaskForm):
    follow_up = TextAreaField(_l("Follow-up"), validators=[required(), at_most(NOTE_MAX)])


class EvidenceForm(FlaskForm):
    criterion_code = SelectField(_l("Criterion"), validate_choice=False, validators=[required()])
    title = StringField(_l("What the file shows"), validators=[required(), at_most(200)])
    file = FileField(_l("Photo or PDF"), validators=[FileRequired(REQUIRED)])

    def __init__(self, *args, codes=(), locale="vi", **kwargs):
        super().__init__(*args, **kwargs)
        self.criterion_code.choices = [SelectChoice("", _l("Choose a criterion"))] + [
            SelectChoice(code, f"{code} · {_short(vi if locale == 'vi' else en)}") for code, vi, en in codes]


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class ConcludeForm(FlaskForm):
    verdict = RadioField(_l("Verdict"), choices=[SelectChoice(v.value, v.label) for v in Verdict],
                         validate_choice=False, validators=[Optional()])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), at_most(4000)])


# --- what an automatic check found, in words --------------------------------------------------------------------

DETAIL_LABELS = {
    "location_types": _l("Kinds of place recorded"), "matching": _l("Allowed by this set"),
    "not_allowed": _l("Not allowed by this set"), "offenders": _l("Offenders"),
    "products_on_shelf": _l("Products on the shelf"), "expired_lots": _l("Expired lots"),
    "recalled_lots": _l("Recalled lots"), "withdrawn_products": _l("Products with a withdrawn certificate"),
    "operator_name": _l("Operator"), "operator_registration_no": _l("Business registration number"),
    "missing": _l("Missing"), "status": _l("Status"), "floor_area_m2": _l("Floor area (m²)"),
    "min_m2": _l("Minimum (m²)"), "reason": _l("Reason"), "days": _l("Days looked at"),
    "counter_sales": _l("Counter sales"), "fulfilled_orders": _l("Orders fulfilled"),
    "last_sale_at": _l("Last sale"),
}
VALUE_LABELS = {
    "expired": _l("expired"), "recalled": _l("recalled"), "certificate_withdrawn": _l("certificate withdrawn"),
    "no_threshold": _l("no threshold is set"), "unknown_area": _l("the floor area is not recorded"),
    "operator_name": _l("operator"), "operator_registration_no": _l("business registration number"),
    "open": _l("open"), "planned": _l("planned"), "suspended": _l("suspended"), "closed": _l("closed"),
    **{kind.value: label for kind, label in LocationType.labels().items()},
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")


def detail_text(value) -> str:
    """One value of a check's detail as a person reads it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, str):
        if _ISO_DATE.match(value):
            return format_date(date.fromisoformat(value))
        if _ISO_DATETIME.match(value):
            try:
                return format_datetime(datetime.fromisoformat(value))
            except ValueError:
                return value
        return str(VALUE_LABELS.get(value, value))
    if isinstance(value, dict):
        return "; ".join(f"{DETAIL_LABELS.get(k, k)}: {detail_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(detail_text(v) for v in value) if value else str(_l("none"))
    return str(value)


def offender_text(item) -> str:
    """A product or lot the check found at fault: "Name · lot L1 · expired · expires 20/11/2026 · 18 units"."""
    if not isinstance(item, dict):
        return detail_text(item)
    parts = [str(item.get("product") or item.get("name") or "")]
    if item.get("lot"):
        parts.append(str(_l("lot %(code)s", code=item["lot"])))
    if item.get("reasons"):
        parts.append(detail_text(item["reasons"]))
    if item.get("expiry_date"):
        parts.append(str(_l("expires %(day)s", day=detail_text(item["expiry_date"]))))
    if item.get("on_hand") is not None:
        parts.append(str(_l("%(n)s units on hand", n=item["on_hand"])))
    known = {"product", "name", "product_id", "slug", "lot", "reasons", "expiry_date", "on_hand"}
    parts += [f"{DETAIL_LABELS.get(k, k)}: {detail_text(v)}" for k, v in item.items()
              if k not in known and v is not None]
    return " · ".join(part for part in parts if part)


def describe_detail(detail: dict) -> list[tuple[str, str | list[str]]]:
    """(label, text) rows of a check's detail; the offenders as a list of lines."""
    rows = []
    for key, value in (detail or {}).items():
        label = str(DETAIL_LABELS.get(key, key.replace("_", " ")))
        if key == "offenders" and isinstance(value, list):
            rows.append((label, [offender_text(item) for item in value] or str(_l("none"))))
        else:
            rows.append((label, detail_text(value)))
    return rows
