"""The department's home and compliance dashboard, at /department: points coloured by their latest verdict
against a criteria set, on a map and in a table, with the automatic checks of the last `flask audit run`."""
from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from shop.accounts.models import Role
from shop.accounts.permissions import area_guard
from shop.audit.dashboard import queries
from shop.audit.models import Outcome, Verdict
from shop.core.clock import today
from shop.sales_points.models import PointStatus, PointTier

bp = Blueprint("department", __name__)
bp.before_request(area_guard(Role.TRADE_OFFICER))

VERDICT_LABELS = {**Verdict.labels(), queries.NOT_AUDITED: _l("Not audited")}


def _audit_urls():
    """A function giving an audit's page, found in the URL map (the audits blueprint may not be there yet)."""
    for rule in current_app.url_map.iter_rules():
        if (rule.endpoint.startswith("audits.") and "GET" in rule.methods and len(rule.arguments) == 1
                and rule.rule.startswith("/department/audits/<int:")):
            argument = next(iter(rule.arguments))
            return lambda audit_id: url_for(rule.endpoint, **{argument: audit_id})
    return lambda audit_id: None


@bp.context_processor
def labels():
    return {"verdict_labels": VERDICT_LABELS, "outcome_labels": Outcome.labels(), "tier_labels": PointTier.labels(),
            "status_labels": PointStatus.labels(), "verdict_keys": queries.VERDICT_KEYS}


def _chosen_set(sets):
    wanted = request.args.get("set", type=int)
    chosen = next((s for s in sets if s.id == wanted), None)
    return chosen or queries.current_set(sets, today())


@bp.route("")
def dashboard():
    sets = queries.criteria_sets()
    criteria_set = _chosen_set(sets)
    filters = queries.Filters.parse(request.args)
    board = queries.build_dashboard(criteria_set, filters, today())
    return render_template("audit/dashboard.html", sets=sets, board=board, filters=filters,
                           chart=queries.verdict_chart(board.counts), audit_url=_audit_urls(), day=today())
