"""The department's compliance dashboard at /department: verdict colours from the latest concluded audit, the
filters, what changed since the last audit, the points failing the automatic checks now, the empty states,
the number of statements for many points, and who may see it."""
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from flask import current_app

from shop.accounts.models import Role, User
from shop.audit.dashboard import queries as dashboard
from shop.audit.models import (
    Audit,
    AuditFinding,
    AuditResult,
    AutoCheck,
    CheckKind,
    CheckSnapshot,
    CriteriaSet,
    Criterion,
    CriterionGroup,
)
from shop.core.clock import today
from shop.extensions import db
from tests.conftest import login
from tests.factories import PHU_HOA, make_point, make_point_manager, make_user
from tests.test_accessibility import assert_accessible

AN_LOC = 25336  # Phường An Lộc, Đồng Nai
NOW = datetime.now(UTC)


# --- builders -----------------------------------------------------------------------------------------------------

def make_set(code="950/QĐ-BCT", start=date(2023, 1, 1), end=date(2099, 12, 31)):
    criteria_set = CriteriaSet(code=code, title=f"Bộ tiêu chí {code}", period_start=start, period_end=end,
                               allowed_location_types=["shopping_centre_market"])
    db.session.add(criteria_set)
    rows = [("L-RULE", CriterionGroup.LOCATION, CheckKind.AUTOMATIC, AutoCheck.LOCATION_TYPE),
            ("P-RULE", CriterionGroup.PRODUCT, CheckKind.AUTOMATIC, AutoCheck.QUALIFYING_BASIS),
            ("M-01", CriterionGroup.MANAGEMENT, CheckKind.BOTH, AutoCheck.OPERATOR),
            ("S-01", CriterionGroup.SIGNAGE, CheckKind.EVIDENCE, None)]
    for position, (code_, group, kind, check) in enumerate(rows):
        criteria_set.criteria.append(Criterion(
            code=code_, group=group, requirement_vi="Yêu cầu", requirement_en="Requirement", source="950/QĐ-BCT",
            confirmed=True, binding=True, check_kind=kind, auto_check=check, params={}, position=position))
    db.session.flush()
    return criteria_set


def make_audit(point, criteria_set, officer, *, status="concluded", verdict="meets", concluded_at=None,
               outcomes=None, findings=()):
    """An audit straight in the given state; outcomes {criterion code: outcome}; findings [(text, deadline)]."""
    concluded = status == "concluded"
    audit = Audit(point_id=point.id, set_id=criteria_set.id, status=status, verdict=verdict if concluded else None,
                  created_by_id=officer.id, concluded_at=(concluded_at or NOW - timedelta(days=10)) if concluded
                  else None, concluded_by_id=officer.id if concluded else None)
    by_code = {c.code: c for c in criteria_set.criteria}
    for code, outcome in (outcomes or {}).items():
        audit.results.append(AuditResult(criterion_id=by_code[code].id, outcome=outcome, auto_detail={}))
    for text, deadline in findings:
        audit.findings.append(AuditFinding(description=text, deadline=deadline, criterion_id=by_code["S-01"].id))
    db.session.add(audit)
    db.session.flush()
    return audit


def make_snapshot(point, criteria_set, outcomes, *, taken_at=None, run_id="run-1"):
    results = {code: {"outcome": outcome, "detail": {}} for code, outcome in outcomes.items()}
    snapshot = CheckSnapshot(run_id=run_id, set_id=criteria_set.id, point_id=point.id, taken_at=taken_at or NOW,
                             passed=sum(o == "pass" for o in outcomes.values()),
                             failed=sum(o == "fail" for o in outcomes.values()), results=results)
    db.session.add(snapshot)
    db.session.flush()
    return snapshot


def board(criteria_set, **filters):
    return dashboard.build_dashboard(criteria_set, dashboard.Filters(**filters), today())


def verdicts(result) -> dict[str, str]:
    return {row.point.code: row.verdict for row in result.rows}


@pytest.fixture
def officer(app_ctx):
    return make_user(Role.TRADE_OFFICER, email="officer@example.vn")


@pytest.fixture
def set950(app_ctx):
    return make_set()


@contextmanager
def data(app):
    """Build rows in their own app context, committed at the end: requests never run inside it."""
    with app.app_context():
        officer = make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        yield officer
        db.session.commit()


def page(client, url="/department"):
    response = client.get(url)
    assert response.status_code == 200, url
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def signed_in(client):
    login(client, "officer@example.vn")
    client.get("/lang/en")
    return client


# --- verdicts -----------------------------------------------------------------------------------------------------

def test_the_verdict_is_that_of_the_latest_concluded_audit(officer, set950):
    meets, reaudited, draft, submitted, other_set = (make_point(code) for code in
                                                    ("DN-A", "DN-B", "DN-C", "DN-D", "DN-E"))
    make_audit(meets, set950, officer, verdict="meets")
    first = make_audit(reaudited, set950, officer, verdict="does_not_meet", concluded_at=NOW - timedelta(days=40))
    again = make_audit(reaudited, set950, officer, verdict="meets_with_conditions",
                       concluded_at=NOW - timedelta(days=5))
    again.previous_audit_id = first.id
    make_audit(meets, set950, officer, status="draft")  # a later draft changes nothing
    make_audit(draft, set950, officer, status="draft")
    make_audit(submitted, set950, officer, status="submitted")
    make_audit(other_set, make_set("920/QĐ-BCT", date(2019, 1, 1), date(2020, 12, 31)), officer, verdict="meets")

    result = board(set950)
    assert verdicts(result) == {"DN-A": "meets", "DN-B": "meets_with_conditions", "DN-C": "not_audited",
                                "DN-D": "not_audited", "DN-E": "not_audited"}
    assert result.counts == {"meets": 1, "meets_with_conditions": 1, "does_not_meet": 0, "not_audited": 3}
    assert next(r for r in result.rows if r.point.code == "DN-B").audit.id == again.id


def test_the_page_colours_each_point_and_counts_them_in_words(app, client):
    with data(app) as officer:
        make_audit(make_point("DN-XL-01", latitude=10.93, longitude=107.24), make_set(), officer,
                   verdict="does_not_meet", concluded_at=datetime(2026, 3, 2, 3, 0, tzinfo=UTC))
        make_point("DN-XL-02")
    html = page(signed_in(client))
    rows = {tr["data-point-code"]: tr for tr in html.select("#compliance-table tbody tr")}
    assert rows["DN-XL-01"]["data-verdict"] == "does_not_meet"
    assert "Does not meet the criteria" in rows["DN-XL-01"].get_text() and "02/03/2026" in rows["DN-XL-01"].get_text()
    assert rows["DN-XL-01"]["data-map-lat"] == "10.93"  # the map's data
    assert "Not audited" in rows["DN-XL-02"].get_text() and not rows["DN-XL-02"].has_attr("data-map-lat")
    legend = {li["data-verdict"]: li.get_text(" ", strip=True) for li in html.select("#verdict-counts li")}
    assert legend["does_not_meet"].endswith("1") and legend["not_audited"].endswith("1")
    assert legend["meets"] == "Meets the criteria 0"
    assert "Does not meet the criteria: 1" in html.select_one("#verdict-chart-desc").get_text()
    assert html.select_one("#compliance-map") is not None
    link = rows["DN-XL-01"].select_one(".verdict-cell a")
    if "audits.audit_detail" in app.view_functions:  # the audit's own page, once the audits pages exist
        assert link["href"].startswith("/department/audits/")
    for asset in ("/static/js/compliance-map.js", "/static/css/department.css"):
        response = client.get(asset)
        assert response.status_code == 200 and asset in str(html)
        response.close()
    assert_accessible(html, "/department")


# --- filters ------------------------------------------------------------------------------------------------------

def test_filters_narrow_the_table_and_the_counts(app, client):
    with data(app) as officer:
        set950 = make_set()
        make_audit(make_point("DN-TT-01", tier="centre", former_district="bien-hoa", ward_code=AN_LOC), set950,
                   officer)
        make_audit(make_point("DN-XL-01", former_district="xuan-loc", ward_code=PHU_HOA), set950, officer,
                   verdict="does_not_meet")
        make_point("DN-XL-02", former_district="xuan-loc", ward_code=PHU_HOA, status="suspended")
    signed_in(client)

    def codes(query):
        html = page(client, "/department?" + query)
        return [tr["data-point-code"] for tr in html.select("#compliance-table tbody tr")], html

    assert codes("")[0] == ["DN-TT-01", "DN-XL-01", "DN-XL-02"]
    assert codes("tier=centre")[0] == ["DN-TT-01"]
    assert codes("district=xuan-loc")[0] == ["DN-XL-01", "DN-XL-02"]
    assert codes(f"ward={AN_LOC}")[0] == ["DN-TT-01"]
    assert codes("status=suspended")[0] == ["DN-XL-02"]
    found, html = codes("district=xuan-loc&verdict=does_not_meet")
    assert found == ["DN-XL-01"]
    # The counts follow every filter but the verdict, so the other verdicts stay in view.
    legend = {li["data-verdict"]: li.get_text(" ", strip=True) for li in html.select("#verdict-counts li")}
    assert legend["does_not_meet"].endswith("1") and legend["not_audited"].endswith("1")
    assert legend["meets"].endswith("0")
    assert html.select_one("#filter-district option[selected]")["value"] == "xuan-loc"
    # Nonsense in the query string is ignored, never an error.
    assert codes("tier=moon&ward=abc&verdict=perfect&district=atlantis&set=999")[0] == ["DN-TT-01", "DN-XL-01",
                                                                                       "DN-XL-02"]
    found, html = codes("verdict=meets&status=closed")
    assert found == [] and html.select_one("#no-points")


# --- criteria sets ------------------------------------------------------------------------------------------------

def test_the_set_in_force_is_chosen_by_default_and_another_can_be_chosen(app, client):
    with data(app) as officer:
        old = make_set("920/QĐ-BCT", date(2019, 1, 1), date(2020, 12, 31))
        current = make_set("950/QĐ-BCT", date(2023, 1, 1), None)
        point = make_point("DN-XL-01")
        make_audit(point, old, officer, verdict="does_not_meet")
        assert dashboard.current_set(dashboard.criteria_sets(), today()) == current
        assert dashboard.current_set(dashboard.criteria_sets(), date(2020, 6, 1)) == old
        assert dashboard.current_set(dashboard.criteria_sets(), date(2021, 6, 1)) == current  # none in force
        old_id = old.id
    signed_in(client)
    html = page(client)
    assert html.select_one("#filter-set option[selected]").get_text() == "950/QĐ-BCT"
    assert html.select_one('tr[data-point-code="DN-XL-01"]')["data-verdict"] == "not_audited"
    html = page(client, f"/department?set={old_id}")
    assert "920/QĐ-BCT" in html.select_one("#chosen-set").get_text()
    assert html.select_one('tr[data-point-code="DN-XL-01"]')["data-verdict"] == "does_not_meet"


# --- what changed, failing now, findings ----------------------------------------------------------------------------

def test_what_changed_since_the_last_audit(app, client):
    with data(app) as officer:
        _what_changed(officer, make_set())
    html = page(signed_in(client))
    items = [li.get_text(" ", strip=True) for li in html.select("#changes li")]
    assert len(items) == 2
    assert items[0].startswith("DN-XL-01 : P-RULE Pass") and "Fail" in items[0]
    assert html.select_one('#changes li[data-criterion="M-01"]')["data-point-code"] == "DN-XL-01"


def _what_changed(officer, set950):
    changed, steady, stale, unaudited = (make_point(code) for code in ("DN-XL-01", "DN-XL-02", "DN-XL-03", "DN-XL-04"))
    audited_at = NOW - timedelta(days=10)
    for point in (changed, steady, stale):
        make_audit(point, set950, officer, concluded_at=audited_at,
                   outcomes={"L-RULE": "pass", "P-RULE": "pass", "M-01": "fail", "S-01": "pass"})
    make_snapshot(changed, set950, {"L-RULE": "pass", "P-RULE": "fail", "M-01": "pass", "S-01": "fail"})
    make_snapshot(steady, set950, {"L-RULE": "pass", "P-RULE": "pass", "M-01": "fail"})
    make_snapshot(stale, set950, {"L-RULE": "fail", "P-RULE": "pass", "M-01": "fail"},
                  taken_at=audited_at - timedelta(days=1))  # older than the audit: not a change since
    make_snapshot(unaudited, set950, {"L-RULE": "fail"})

    rows = {row.point.code: row for row in board(set950).rows}
    # S-01 is an evidence criterion: the automatic checks say nothing about it.
    assert [(c.code, c.before, c.now) for c in rows["DN-XL-01"].changes] == [("P-RULE", "pass", "fail"),
                                                                             ("M-01", "fail", "pass")]
    assert rows["DN-XL-02"].changes == [] and rows["DN-XL-03"].changes == [] and rows["DN-XL-04"].changes == []


def test_what_changed_is_computed_from_the_snapshot_and_the_audit(officer, set950):
    _what_changed(officer, set950)


def test_a_reaudit_replaces_the_baseline_of_what_changed(officer, set950):
    point = make_point("DN-XL-01")
    make_audit(point, set950, officer, concluded_at=NOW - timedelta(days=30), outcomes={"P-RULE": "pass"})
    make_snapshot(point, set950, {"P-RULE": "fail"}, taken_at=NOW - timedelta(days=20), run_id="r1")
    make_audit(point, set950, officer, verdict="does_not_meet", concluded_at=NOW - timedelta(days=2),
               outcomes={"P-RULE": "fail"})
    make_snapshot(point, set950, {"P-RULE": "fail"}, taken_at=NOW - timedelta(days=1), run_id="r2")
    (row,) = board(set950).rows
    assert row.verdict == "does_not_meet" and row.changes == []


def test_points_failing_automatic_checks_now_come_from_the_latest_snapshot(app, client):
    with data(app) as officer:
        _failing(officer, make_set())
    html = page(signed_in(client))
    (item,) = html.select("#failing li")
    assert item["data-point-code"] == "DN-XL-02" and "L-RULE, M-01" in item.get_text()
    assert item.a["href"] == "/department/points/DN-XL-02"
    rows = {tr["data-point-code"]: tr.select_one(".checks-cell").get_text(" ", strip=True)
            for tr in html.select("#compliance-table tbody tr")}
    assert rows["DN-XL-02"] == "2 failed : L-RULE, M-01"
    assert rows["DN-XL-01"] == "All 2 passed" and rows["DN-XL-04"] == "Not checked"


def test_failing_now_is_computed_from_the_latest_snapshot_of_each_point(officer, set950):
    _failing(officer, set950)


def _failing(officer, set950):
    mended, failing, clean = (make_point(code) for code in ("DN-XL-01", "DN-XL-02", "DN-XL-03"))
    make_snapshot(mended, set950, {"L-RULE": "pass", "P-RULE": "fail"}, taken_at=NOW - timedelta(days=1), run_id="r1")
    make_snapshot(mended, set950, {"L-RULE": "pass", "P-RULE": "pass"}, run_id="r2")
    make_snapshot(failing, set950, {"L-RULE": "pass"}, taken_at=NOW - timedelta(days=1), run_id="r1")
    make_snapshot(failing, set950, {"M-01": "fail", "L-RULE": "fail", "P-RULE": "not_applicable"}, run_id="r2")
    make_snapshot(clean, set950, {"L-RULE": "pass"}, run_id="r2")
    make_point("DN-XL-04")  # never checked

    result = board(set950)
    assert [(row.point.code, row.failing) for row in result.failing_now] == [("DN-XL-02", ["L-RULE", "M-01"])]


def test_open_findings_are_counted_with_the_overdue_ones_highlighted(app, client):
    with data(app) as officer:
        _findings(officer, make_set())
    html = page(signed_in(client))
    cell = html.select_one('tr[data-point-code="DN-XL-01"] .findings-cell')
    assert cell.summary.get_text(" ", strip=True) == "2 1 overdue"
    assert cell.select_one(".overdue") and "Biển hiệu thiếu logo OCOP" in cell.select_one(
        ".findings__item--overdue").get_text()


def test_open_findings_leave_out_resolved_ones_and_drafts(officer, set950):
    _findings(officer, set950)


def _findings(officer, set950):
    point = make_point("DN-XL-01")
    audit = make_audit(point, set950, officer, verdict="meets_with_conditions",
                       findings=[("Biển hiệu thiếu logo OCOP", today() - timedelta(days=3)),
                                 ("Thiếu giá niêm yết", today() + timedelta(days=20))])
    resolved = make_audit(point, set950, officer, concluded_at=NOW - timedelta(days=50),
                          findings=[("Đã khắc phục", today() - timedelta(days=30))])
    resolved.findings[0].status = "resolved"
    make_audit(point, set950, officer, status="draft", findings=[("Nháp", today() - timedelta(days=1))])
    (row,) = board(set950).rows
    assert [f.description for f in row.findings] == ["Biển hiệu thiếu logo OCOP", "Thiếu giá niêm yết"]
    assert [f.description for f in row.overdue] == ["Biển hiệu thiếu logo OCOP"]
    assert audit.id


# --- empty states -------------------------------------------------------------------------------------------------

def test_the_page_works_with_no_criteria_set(app, client):
    with data(app):
        make_point("DN-XL-01")
    html = page(signed_in(client))
    assert html.select_one("#no-sets") and html.select_one("#filter-set") is None
    assert [tr["data-point-code"] for tr in html.select("#compliance-table tbody tr")] == ["DN-XL-01"]
    assert_accessible(html, "/department (no sets)")


def test_the_page_works_with_a_set_but_no_point_and_no_audit(app, client):
    with data(app):
        make_set()
    html = page(signed_in(client))
    assert html.select_one("#no-points") and html.select_one("#compliance-map") is None
    assert "Nothing changed" in html.select_one("#changes").get_text()
    assert "have not run yet" in html.select_one("#failing").get_text()
    assert_accessible(html, "/department (empty)")


def test_the_department_navigation_marks_the_dashboard(app, client):
    with data(app):
        make_set()
    html = page(signed_in(client))
    nav = html.select_one("nav.department-nav")
    links = {a.get_text(strip=True): a["href"] for a in nav.select("a")}
    assert links["Registry"] == "/department/points" and links["Audits"] == "/department/audits"
    assert links["Qualifying bases"] == "/department/bases" and links["Product changes"] == "/department/changes"
    assert [a.get_text(strip=True) for a in nav.select("[aria-current]")] == ["Dashboard"]
    html = page(client, "/department/points")
    # The registry does not include the partial yet; rendering it there is the lead's call.
    assert html is not None


# --- efficiency -----------------------------------------------------------------------------------------------------

def _statements_of(app, work) -> int:
    with app.app_context():
        engine = db.engine
    statements = []

    def count(*_args):
        statements.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def _statements(work) -> int:
    return _statements_of(current_app, work)


def _populate(set_id: int, officer_id: int, first: int, last: int):
    criteria_set, officer = db.session.get(CriteriaSet, set_id), db.session.get(User, officer_id)
    for n in range(first, last):
        point = make_point(f"DN-P{n:03d}", latitude=10.9 + n / 1000, longitude=107.2)
        if n % 3:
            make_audit(point, criteria_set, officer, verdict=("meets", "does_not_meet")[n % 2],
                       outcomes={"L-RULE": "pass", "P-RULE": "pass"}, findings=[("Thiếu", today() - timedelta(days=1))])
        make_snapshot(point, criteria_set, {"L-RULE": "pass", "P-RULE": ("pass", "fail")[n % 2]},
                      run_id=f"r{n}")


def test_the_number_of_statements_does_not_grow_with_the_points(app, client):
    with data(app) as officer:
        set_id, officer_id = make_set().id, officer.id
        _populate(set_id, officer_id, 0, 5)
    signed_in(client)
    with app.app_context():
        few = _statements(lambda: board(db.session.get(CriteriaSet, set_id)))
    few_page = _statements_of(app, lambda: page(client))
    with app.app_context():
        _populate(set_id, officer_id, 5, 50)
        db.session.commit()
    with app.app_context():
        many = _statements(lambda: board(db.session.get(CriteriaSet, set_id)))
        result = board(db.session.get(CriteriaSet, set_id))
        assert len(result.rows) == 50 and len(result.failing_now) == 25 and len(result.changed) == 17
    many_page = _statements_of(app, lambda: page(client))
    assert many == few <= 9, (few, many)
    assert many_page == few_page, (few_page, many_page)


# --- who may see it -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PRODUCER, Role.POINT_MANAGER])
def test_other_roles_are_refused(app, client, role):
    with app.app_context():
        if role == Role.POINT_MANAGER:
            make_point_manager(make_point("DN-XL-01"), email="someone@example.vn")
        else:
            make_user(role, email="someone@example.vn")
        db.session.commit()
    login(client, "someone@example.vn")
    assert client.get("/department").status_code == 403
    assert client.get("/department?set=1&tier=centre").status_code == 403


def test_guests_are_sent_to_login(client):
    response = client.get("/department")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_admins_see_the_dashboard(app, client):
    with app.app_context():
        make_user(Role.ADMIN, email="admin@example.vn")
        db.session.commit()
    login(client, "admin@example.vn")
    assert client.get("/department").status_code == 200
