"""Periodic reports and programme targets, under /department/reports and /department/targets."""
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _

from shop.accounts.models import Role
from shop.accounts.permissions import area_guard
from shop.audit.reports.build import build_report
from shop.audit.reports.forms import ReportPeriodForm
from shop.audit.reports.pdf import build_pdf
from shop.audit.reports.periods import Period, PeriodError, date_range, half, parse_day, quarter, whole_year
from shop.audit.reports.xlsx import build_xlsx
from shop.audit.targets import services as target_metrics
from shop.core.clock import today

bp = Blueprint("reports", __name__)
bp.before_request(area_guard(Role.TRADE_OFFICER))

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.context_processor
def department_nav():
    return {"department_nav": "department.dashboard" in current_app.view_functions}


def _period_from(form: ReportPeriodForm) -> Period:
    """The period the form asks for; PeriodError (with the field) when it is not one."""
    kind = form.kind.data
    if kind == "range":
        if not form.start.data or not form.end.data:
            raise PeriodError(_("Give the first and the last day of the period."), field="start")
        return date_range(form.start.data, form.end.data)
    if not form.year.data:
        raise PeriodError(_("Give a year between 2000 and 2100."), field="year")
    if kind == "year":
        return whole_year(form.year.data)
    if kind == "half":
        return half(form.year.data, int(form.half.data))
    return quarter(form.year.data, int(form.quarter.data))


@bp.route("/reports")
def report_page():
    form = ReportPeriodForm.with_defaults(request.args)
    period, report, status = None, None, 200
    if request.args:
        if form.validate():
            try:
                period = _period_from(form)
            except PeriodError as error:
                getattr(form, error.field if error.field in form else "kind").errors.append(error.message)
        if period is None:
            status = 400
    else:
        period = _period_from(form)
    if period is not None:
        report = build_report(period.start, period.end, period=period)
    downloads = None if period is None else {
        fmt: url_for(".report_file", fmt=fmt, **{"from": period.start.isoformat(), "to": period.end.isoformat()})
        for fmt in ("xlsx", "pdf")}
    return render_template("audit/reports/report.html", form=form, period=period, report=report,
                           downloads=downloads), status


def _period_from_query() -> Period:
    start, end = request.args.get("from"), request.args.get("to")
    if not start or not end:
        abort(400, description=_("Give the period as ?from=YYYY-MM-DD&to=YYYY-MM-DD."))
    try:
        return date_range(parse_day(start), parse_day(end))
    except PeriodError as error:
        abort(400, description=error.message)


@bp.route("/reports/report.<any(xlsx, pdf):fmt>")
def report_file(fmt: str):
    period = _period_from_query()
    report = build_report(period.start, period.end, period=period)
    content, mimetype = (build_xlsx(report), XLSX_TYPE) if fmt == "xlsx" else (build_pdf(report), "application/pdf")
    response = current_app.response_class(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{period.filename_stem}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- targets ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TargetBar:
    progress: target_metrics.Progress
    y: float
    width: float        # the value's bar, capped at the target line
    label_y: float


@dataclass(frozen=True)
class TargetChart:
    width: int
    height: int
    left: float
    plot: float         # width of 100 %
    bars: list[TargetBar]
    bar_height: float


def target_chart(items: list[target_metrics.Progress], width: int = 720) -> TargetChart:
    """Horizontal bars: each measured target's value as a share of its target (100 % = the target line)."""
    measured = [item for item in items if item.value is not None]
    left, right, row, top = 150, 60, 30, 12
    plot = width - left - right
    bars = []
    for index, item in enumerate(measured):
        share = min(item.percent or 0, 100) / 100
        y = top + index * row
        bars.append(TargetBar(item, y=y, width=round(plot * share, 2), label_y=y + 13))
    return TargetChart(width, top * 2 + row * len(measured), left, plot, bars, bar_height=18)


@bp.route("/targets")
def target_page():
    items = target_metrics.progress()
    programmes: dict[str, list] = {}
    for item in items:
        programmes.setdefault(item.target.programme, []).append(item)
    charts = {name: target_chart(group) for name, group in programmes.items()}
    return render_template("audit/targets/targets.html", programmes=programmes, charts=charts, day=today(),
                           metrics=target_metrics.METRICS)
