"""Audits of a sales point: draft → submitted → concluded with a verdict, every refusal, and the department's
pages through the real forms (CSRF on). The criteria sets here are small fixtures made with the models; the
automatic checks are a stand-in passed to the services (the real ones live in shop.audit.checks.automatic)."""
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shop.accounts.models import Role, User
from shop.audit.audits import services
from shop.audit.models import (
    Audit,
    AuditStatus,
    AutoCheck,
    CheckKind,
    CriteriaSet,
    Criterion,
    CriterionGroup,
    FindingStatus,
    Outcome,
    Verdict,
)
from shop.core.audit_trail import AuditEntry
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.extensions import db
from tests.conftest import csrf_token, login, post_form
from tests.factories import make_point, make_user

SET_CODE = "950/QĐ-BCT"


@dataclass
class FakeCheck:
    outcome: Outcome
    detail: dict = field(default_factory=dict)


def fake_checks(point, criteria_set, day):
    """The operator check fails with an offender; nothing else is automatic in the fixture set."""
    return {"M-01": FakeCheck(Outcome.FAIL, {"offenders": ["Không có số đăng ký kinh doanh"]}),
            "L-00": FakeCheck(Outcome.PASS)}  # not automatic: ignored


CRITERIA = [
    # code, group, binding, confirmed, check kind, auto check
    ("L-00", CriterionGroup.LOCATION, True, True, CheckKind.EVIDENCE, None),
    ("M-01", CriterionGroup.MANAGEMENT, True, True, CheckKind.AUTOMATIC, AutoCheck.OPERATOR),
    ("S-01", CriterionGroup.SIGNAGE, True, True, CheckKind.EVIDENCE, None),
    ("F-02", CriterionGroup.FACILITIES, False, False, CheckKind.EVIDENCE, None),
]


def make_criteria_set(code: str = SET_CODE, criteria=CRITERIA) -> CriteriaSet:
    criteria_set = CriteriaSet(code=code, title="Tiêu chí điểm giới thiệu và bán sản phẩm OCOP 2023–2025",
                               decision_date=date(2023, 4, 18), period_start=date(2023, 4, 18),
                               period_end=date(2025, 12, 31), allowed_location_types=["post_office"])
    db.session.add(criteria_set)
    for position, (crit_code, group, binding, confirmed, kind, auto) in enumerate(criteria):
        criteria_set.criteria.append(Criterion(
            code=crit_code, group=group, requirement_vi=f"Yêu cầu {crit_code}",
            requirement_en=f"Requirement {crit_code}", source="950/QĐ-BCT mục II", confirmed=confirmed,
            binding=binding, check_kind=kind, auto_check=auto, params={}, position=position))
    db.session.flush()
    return criteria_set


def criterion(criteria_set: CriteriaSet, code: str) -> Criterion:
    return next(c for c in criteria_set.criteria if c.code == code)


@pytest.fixture
def world(app_ctx):
    officer = make_user(Role.TRADE_OFFICER, email="officer@example.vn")
    point = make_point("DN-XL-01")
    other = make_point("DN-TT-01")
    criteria_set = make_criteria_set()
    return officer, point, other, criteria_set


def record_all(audit, officer, outcomes: dict[str, Outcome]):
    for result in audit.results:
        if result.criterion.code in outcomes:
            services.record_result(audit, result.criterion, outcomes[result.criterion.code], "ghi chú", officer)


ALL_PASS = {"L-00": Outcome.PASS, "M-01": Outcome.PASS, "S-01": Outcome.PASS}


# ------------------------------------------------------------------------------------------------- services

def test_a_draft_has_one_result_per_criterion_prefilled_by_the_automatic_checks(world):
    officer, point, _, criteria_set = world
    audit = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    assert audit.status == AuditStatus.DRAFT and audit.verdict is None
    results = {r.criterion.code: r for r in audit.results}
    assert sorted(results) == ["F-02", "L-00", "M-01", "S-01"]
    assert results["M-01"].auto_outcome == Outcome.FAIL
    assert results["M-01"].auto_detail == {"offenders": ["Không có số đăng ký kinh doanh"]}
    assert results["L-00"].auto_outcome is None  # evidence-only criteria get no automatic result
    assert all(r.outcome is None for r in audit.results)
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "audit.started")).subject_id == audit.id


def test_the_whole_workflow_from_draft_to_verdict_then_the_follow_up(world):
    officer, point, _, criteria_set = world
    audit = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    record_all(audit, officer, {**ALL_PASS, "S-01": Outcome.FAIL})
    finding = services.add_finding(audit, "Biển hiệu chưa đúng mẫu 3041/QĐ-BCT", today() + timedelta(days=30),
                                   criterion(criteria_set, "S-01"), actor=officer)
    services.submit(audit, officer)
    assert audit.status == AuditStatus.SUBMITTED and audit.submitted_at is not None
    services.conclude(audit, "meets_with_conditions", "Đạt, với điều kiện thay biển hiệu.", officer)
    assert (audit.status, audit.verdict, audit.concluded_by_id) == (AuditStatus.CONCLUDED,
                                                                    Verdict.MEETS_WITH_CONDITIONS, officer.id)
    # The follow-up of a finding goes on after the conclusion; the audit does not change.
    services.resolve_finding(finding, "Đã thay biển hiệu mới ngày 20/06.", officer)
    assert finding.status == FindingStatus.RESOLVED and finding.resolved_at is not None
    assert audit.verdict == Verdict.MEETS_WITH_CONDITIONS
    actions = set(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.subject_id == audit.id,
                                                                         AuditEntry.subject_type == "Audit")))
    assert {"audit.started", "audit.results_recorded", "audit.finding_added", "audit.submitted", "audit.concluded",
            "audit.finding_resolved"} <= actions


def _concluded(world, verdict="meets"):
    officer, point, _, criteria_set = world
    audit = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    record_all(audit, officer, ALL_PASS)
    services.submit(audit, officer)
    services.conclude(audit, verdict, "Tốt.", officer)
    return audit


def test_a_concluded_audit_refuses_every_edit(world):
    officer, _, _, criteria_set = world
    audit = _concluded(world)
    attempts = [
        lambda: services.record_result(audit, criterion(criteria_set, "L-00"), "fail", "sửa", officer),
        lambda: services.conclude(audit, "does_not_meet", "Sửa kết luận", officer),
        lambda: services.add_finding(audit, "Muộn", None, actor=officer),
        lambda: services.refresh_automatic(audit, officer, run_checks=fake_checks),
        lambda: services.submit(audit, officer),
    ]
    for attempt in attempts:
        with pytest.raises(DomainError) as error:
            attempt()
        assert error.value.code == "audit_concluded" and error.value.message
    assert audit.verdict == Verdict.MEETS and audit.summary == "Tốt."


def test_conclude_needs_a_verdict_and_a_submitted_audit(world):
    officer, point, _, criteria_set = world
    audit = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    record_all(audit, officer, ALL_PASS)
    with pytest.raises(DomainError) as error:
        services.conclude(audit, "meets", "", officer)
    assert error.value.code == "audit_not_submitted"
    services.submit(audit, officer)
    for verdict in (None, "", "excellent"):
        with pytest.raises(DomainError) as error:
            services.conclude(audit, verdict, "", officer)
        assert error.value.code == "verdict_required"
    assert audit.status == AuditStatus.SUBMITTED


def test_meets_is_refused_while_a_binding_criterion_failed(world):
    officer, point, _, criteria_set = world
    audit = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    record_all(audit, officer, {**ALL_PASS, "M-01": Outcome.FAIL, "F-02": Outcome.FAIL})
    services.submit(audit, officer)
    with pytest.raises(DomainError) as error:
        services.conclude(audit, "meets", "", officer)
    assert error.value.code == "binding_failed" and "M-01" in error.value.message
    assert "F-02" not in error.value.message  # advisory criteria do not block
    services.conclude(audit, "does_not_meet", "Chưa có đăng ký kinh doanh.", officer)
    assert audit.verdict == Verdict.DOES_NOT_MEET


def test_an_advisory_failure_does_not_block_meets(world):
    officer, point, _, criteria_set = world
    audit = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    record_all(audit, officer, {**ALL_PASS, "F-02": Outcome.FAIL})
    services.submit(audit, officer)
    services.conclude(audit, "meets", "", officer)
    assert audit.verdict == Verdict.MEETS


def test_meets_with_conditions_needs_an_open_finding_with_a_deadline(world):
    officer, point, _, criteria_set = world
    audit = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    record_all(audit, officer, ALL_PASS)
    services.add_finding(audit, "Không có hạn", None, actor=officer)
    services.submit(audit, officer)
    with pytest.raises(DomainError) as error:
        services.conclude(audit, "meets_with_conditions", "", officer)
    assert error.value.code == "conditions_required"
    services.add_finding(audit, "Bổ sung kệ trưng bày", today() + timedelta(days=60), actor=officer)
    services.conclude(audit, "meets_with_conditions", "", officer)
    assert audit.verdict == Verdict.MEETS_WITH_CONDITIONS


def test_submit_lists_the_binding_criteria_without_an_outcome(world):
    officer, point, _, criteria_set = world
    audit = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    services.record_result(audit, criterion(criteria_set, "L-00"), "pass", "", officer)
    with pytest.raises(DomainError) as error:
        services.submit(audit, officer)
    assert error.value.code == "missing_outcomes"
    assert "M-01, S-01" in error.value.message and "F-02" not in error.value.message
    assert audit.status == AuditStatus.DRAFT
    record_all(audit, officer, ALL_PASS)
    services.submit(audit, officer)  # the advisory F-02 may stay without an outcome
    with pytest.raises(DomainError) as error:
        services.submit(audit, officer)
    assert error.value.code == "audit_not_draft"


def test_a_submitted_audit_stays_editable_but_keeps_binding_outcomes(world):
    officer, point, _, criteria_set = world
    audit = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    record_all(audit, officer, ALL_PASS)
    services.submit(audit, officer)
    services.record_result(audit, criterion(criteria_set, "S-01"), "fail", "Biển hiệu bạc màu", officer)
    with pytest.raises(DomainError) as error:
        services.record_result(audit, criterion(criteria_set, "S-01"), None, "", officer)
    assert error.value.code == "missing_outcomes"
    with pytest.raises(DomainError) as error:
        services.record_result(audit, criterion(criteria_set, "S-01"), "great", "", officer)
    assert error.value.code == "bad_outcome"


def test_a_criterion_of_another_set_is_refused(world):
    officer, point, _, criteria_set = world
    other_set = make_criteria_set("920/QĐ-BCT", [("L-01", CriterionGroup.LOCATION, True, True, CheckKind.EVIDENCE,
                                                  None)])
    audit = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    with pytest.raises(DomainError) as error:
        services.record_result(audit, other_set.criteria[0], "pass", "", officer)
    assert error.value.code == "criterion_not_in_audit"


def test_a_re_audit_follows_a_concluded_audit_of_the_same_point_only(world):
    officer, point, other, criteria_set = world
    draft = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    with pytest.raises(DomainError) as error:
        services.start_audit(point, criteria_set, officer, previous=draft, run_checks=fake_checks)
    assert error.value.code == "reaudit_not_concluded"
    record_all(draft, officer, ALL_PASS)
    services.submit(draft, officer)
    services.conclude(draft, "meets", "", officer)
    with pytest.raises(DomainError) as error:
        services.start_audit(other, criteria_set, officer, previous=draft, run_checks=fake_checks)
    assert error.value.code == "reaudit_other_point"
    again = services.start_audit(point, criteria_set, officer, previous=draft, run_checks=fake_checks)
    assert again.previous_audit_id == draft.id and again.status == AuditStatus.DRAFT
    assert draft.status == AuditStatus.CONCLUDED and draft.verdict == Verdict.MEETS


def test_one_audit_in_progress_per_point_and_set(world):
    officer, point, other, criteria_set = world
    services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    with pytest.raises(DomainError) as error:
        services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    assert error.value.code == "audit_in_progress"
    services.start_audit(other, criteria_set, officer, run_checks=fake_checks)


def test_the_automatic_checks_are_refreshed_only_in_draft(world):
    officer, point, _, criteria_set = world
    audit = services.start_audit(point, criteria_set, officer, run_checks=lambda *a: {})
    assert criterion_result(audit, "M-01").auto_outcome is None
    services.refresh_automatic(audit, officer, run_checks=fake_checks)
    assert criterion_result(audit, "M-01").auto_outcome == Outcome.FAIL
    record_all(audit, officer, ALL_PASS)
    services.submit(audit, officer)
    with pytest.raises(DomainError) as error:
        services.refresh_automatic(audit, officer, run_checks=fake_checks)
    assert error.value.code == "audit_not_draft"


def criterion_result(audit, code):
    return next(r for r in audit.results if r.criterion.code == code)


def test_findings_need_a_description_and_resolve_once(world):
    officer, point, _, criteria_set = world
    audit = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    with pytest.raises(DomainError) as error:
        services.add_finding(audit, "  ", None, actor=officer)
    assert error.value.code == "finding_empty"
    with pytest.raises(DomainError) as error:
        services.add_finding(audit, "Hạn đã qua", today() - timedelta(days=1), actor=officer)
    assert error.value.code == "deadline_past" and error.value.field == "deadline"
    finding = services.add_finding(audit, "Thiếu bảng giá", None, actor=officer)
    with pytest.raises(DomainError) as error:
        services.resolve_finding(finding, "", officer)
    assert error.value.code == "follow_up_empty"
    services.resolve_finding(finding, "Đã niêm yết giá", officer)
    with pytest.raises(DomainError) as error:
        services.resolve_finding(finding, "Lần nữa", officer)
    assert error.value.code == "finding_resolved"


# ------------------------------------------------------------------------------------------------- pages

@pytest.fixture
def site(app):
    """A point, a criteria set and an officer logged in (English pages)."""
    with app.app_context():
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        make_point("DN-XL-01", name="Điểm OCOP Xuân Lộc")
        make_point("DN-TT-01", name="Trung tâm OCOP tỉnh", tier="centre")
        criteria_set = make_criteria_set()
        db.session.commit()
        ids = {"set": criteria_set.id, **{c.code: c.id for c in criteria_set.criteria}}
    return ids


@pytest.fixture
def officer(app, client, site):
    login(client, "officer@example.vn")
    client.get("/lang/en")
    return client


def _point_id(app, code):
    with app.app_context():
        from shop.sales_points.queries import get_by_code

        return get_by_code(code).id


def _latest_audit(app):
    with app.app_context():
        return db.session.scalar(sa.select(Audit.id).order_by(Audit.id.desc()).limit(1))


def _start(app, officer, site, code="DN-XL-01"):
    response = post_form(officer, "/department/audits/new", {"point_id": _point_id(app, code), "set_id": site["set"]})
    assert response.status_code == 302, response.get_data(as_text=True)
    audit_id = _latest_audit(app)
    assert response.headers["Location"].endswith(f"/department/audits/{audit_id}")
    return audit_id


def _outcomes(site, outcomes: dict[str, str]) -> dict:
    data = {}
    for code, value in outcomes.items():
        data[f"outcome_{site[code]}"] = value
        data[f"note_{site[code]}"] = f"Ghi chú {code}"
    return data


def test_an_officer_takes_an_audit_from_draft_to_verdict_in_the_pages(app, officer, site):
    page = officer.get("/department/audits/new?point=DN-XL-01").get_data(as_text=True)
    assert "950/QĐ-BCT" in page
    audit_id = _start(app, officer, site)
    url = f"/department/audits/{audit_id}"
    page = officer.get(url).get_data(as_text=True)
    assert "Requirement L-00" in page and "Advisory" in page and "Draft" in page
    assert "Location" in page and "Management" in page  # grouped by criterion group

    response = post_form(officer, f"{url}/submit", {}, form_url=url)
    assert response.status_code == 400
    assert "Missing: L-00, M-01, S-01" in response.get_data(as_text=True)

    response = post_form(officer, f"{url}/results",
                         _outcomes(site, {"L-00": "pass", "M-01": "pass", "S-01": "fail"}), form_url=url)
    assert response.status_code == 302
    page = officer.get(url).get_data(as_text=True)
    assert "Ghi chú S-01" in page

    deadline = (today() + timedelta(days=30)).isoformat()
    response = post_form(officer, f"{url}/findings", {"description": "Thay biển hiệu theo mẫu", "deadline": deadline,
                                                      "criterion_id": site["S-01"]}, form_url=url)
    assert response.status_code == 302
    assert post_form(officer, f"{url}/submit", {}, form_url=url).status_code == 302

    response = post_form(officer, f"{url}/conclude", {"verdict": "", "summary": ""}, form_url=url)
    assert response.status_code == 400 and "Choose a verdict" in response.get_data(as_text=True)
    response = post_form(officer, f"{url}/conclude", {"verdict": "meets", "summary": ""}, form_url=url)
    assert response.status_code == 400 and "binding criteria failed: S-01" in response.get_data(as_text=True)
    response = post_form(officer, f"{url}/conclude", {"verdict": "meets_with_conditions",
                                                      "summary": "Đạt có điều kiện"}, form_url=url)
    assert response.status_code == 302

    page = officer.get(url).get_data(as_text=True)
    assert "Meets the criteria with conditions" in page and "Start a re-audit" in page
    assert 'name="outcome_' not in page  # read only
    listing = officer.get("/department/audits").get_data(as_text=True)
    assert f"Audit {audit_id}" in listing and "Meets the criteria with conditions" in listing

    # A concluded audit refuses edits through the pages too.
    response = post_form(officer, f"{url}/results", _outcomes(site, {"L-00": "fail"}), form_url=url)
    assert response.status_code == 400 and "concluded and cannot be changed" in response.get_data(as_text=True)
    response = post_form(officer, f"{url}/conclude", {"verdict": "does_not_meet"}, form_url=url)
    assert response.status_code == 400
    with app.app_context():
        audit = db.session.get(Audit, audit_id)
        assert audit.verdict == Verdict.MEETS_WITH_CONDITIONS
        assert criterion_result(audit, "L-00").outcome == Outcome.PASS

    # The finding is followed up after the conclusion.
    with app.app_context():
        finding_id = db.session.get(Audit, audit_id).findings[0].id
    response = post_form(officer, f"{url}/findings/{finding_id}/resolve", {"follow_up": ""}, form_url=url)
    assert response.status_code == 400
    response = post_form(officer, f"{url}/findings/{finding_id}/resolve", {"follow_up": "Đã thay biển"}, form_url=url)
    assert response.status_code == 302
    assert "Đã thay biển" in officer.get(url).get_data(as_text=True)

    # The re-audit links both ways.
    response = post_form(officer, f"{url}/reaudit", {}, form_url=url)
    assert response.status_code == 302
    again = _latest_audit(app)
    assert response.headers["Location"].endswith(f"/department/audits/{again}")
    assert f'href="/department/audits/{audit_id}"' in officer.get(f"/department/audits/{again}").get_data(as_text=True)
    assert f'href="/department/audits/{again}"' in officer.get(url).get_data(as_text=True)


def test_a_draft_cannot_be_re_audited_in_the_pages(app, officer, site):
    audit_id = _start(app, officer, site)
    url = f"/department/audits/{audit_id}"
    response = post_form(officer, f"{url}/reaudit", {}, form_url=url)
    assert response.status_code == 400 and "Only a concluded audit can be re-audited" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Audit.id))) == 1


def test_starting_needs_a_point_and_refuses_a_second_audit_in_progress(app, officer, site):
    response = post_form(officer, "/department/audits/new", {"point_id": "0", "set_id": site["set"]})
    assert response.status_code == 400 and "Please fill in this field" in response.get_data(as_text=True)
    _start(app, officer, site)
    response = post_form(officer, "/department/audits/new", {"point_id": _point_id(app, "DN-XL-01"),
                                                             "set_id": site["set"]})
    assert response.status_code == 400 and "already in progress" in response.get_data(as_text=True)


def test_the_list_filters_by_status_verdict_point_and_set(app, officer, site):
    first = _start(app, officer, site, "DN-XL-01")
    second = _start(app, officer, site, "DN-TT-01")
    url = f"/department/audits/{second}"
    post_form(officer, f"{url}/results", _outcomes(site, {"L-00": "pass", "M-01": "pass", "S-01": "pass"}),
              form_url=url)
    post_form(officer, f"{url}/submit", {}, form_url=url)
    post_form(officer, f"{url}/conclude", {"verdict": "meets"}, form_url=url)

    def listed(query):
        page = officer.get(f"/department/audits?{query}").get_data(as_text=True)
        return {int(n) for n in re.findall(r'href="/department/audits/(\d+)"', page)}

    assert listed("") == {first, second}
    assert listed("status=draft") == {first}
    assert listed("verdict=meets") == {second}
    assert listed("point=DN-XL-01") == {first}
    assert listed(f"set={site['set']}") == {first, second}
    assert listed("status=nonsense") == {first, second}


def test_an_unknown_audit_is_not_found(officer):
    assert officer.get("/department/audits/999").status_code == 404


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PRODUCER, Role.POINT_MANAGER])
def test_other_roles_are_refused_the_department_pages(app, client, site, role):
    with app.app_context():
        make_user(role, email="someone@example.vn")
        officer = db.session.scalar(sa.select(User).where(User.email == "officer@example.vn"))
        audit = services.start_audit(make_point("DN-BH-01"), db.session.get(CriteriaSet, site["set"]), officer,
                                     run_checks=fake_checks)
        db.session.commit()
        audit_id = audit.id
    login(client, "someone@example.vn")
    token = csrf_token(client, "/")
    for url in ("/department/audits", "/department/audits/new", f"/department/audits/{audit_id}"):
        assert client.get(url).status_code == 403, url
    for url in (f"/department/audits/{audit_id}/submit", f"/department/audits/{audit_id}/results"):
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url


def test_guests_are_sent_to_log_in(client, site):
    for url in ("/department/audits", "/department/audits/new", "/department/audits/1"):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_an_admin_reaches_the_audits(app, client, site):
    with app.app_context():
        make_user(Role.ADMIN, email="admin@example.vn")
        db.session.commit()
    login(client, "admin@example.vn")
    assert client.get("/department/audits").status_code == 200


def test_the_demo_audits_are_seeded_once(app_ctx):
    from collections import Counter
    from types import SimpleNamespace

    from shop.seeding.demo_audits import seed_demo_audits

    make_user(Role.TRADE_OFFICER, email="officer@demo.ocop.vn")
    make_point("DN-TT-01", tier="centre")
    make_point("DN-XL-01")
    report = SimpleNamespace(created=Counter())
    seed_demo_audits(report)  # no criteria set yet: nothing happens
    assert report.created["audits"] == 0
    make_criteria_set()
    seed_demo_audits(report)
    seed_demo_audits(report)
    assert report.created["audits"] == 2
    audits = {a.point.code: a for a in db.session.scalars(sa.select(Audit))}
    assert set(audits) == {"DN-TT-01", "DN-XL-01"}
    centre = audits["DN-TT-01"]
    assert centre.status == AuditStatus.CONCLUDED and centre.verdict == Verdict.MEETS_WITH_CONDITIONS
    assert any(f.criterion and f.criterion.code == "S-01" and f.deadline for f in centre.findings)
    assert audits["DN-XL-01"].status == AuditStatus.DRAFT


def test_the_page_shows_what_the_automatic_checks_found(app, officer, site):
    def checks(point, criteria_set, day):
        return {"M-01": FakeCheck(Outcome.FAIL, {"operator_name": None, "missing": ["operator_registration_no"],
                                                 "offenders": [{"product": "Tiêu đen Xuân Thọ", "product_id": 63,
                                                                "lot": "L250529-X", "on_hand": 18,
                                                                "reasons": ["expired"],
                                                                "expiry_date": "2026-11-20"}]})}

    with app.app_context():
        from shop.sales_points.queries import get_by_code

        audit = services.start_audit(get_by_code("DN-XL-01"), db.session.get(CriteriaSet, site["set"]),
                                     db.session.scalar(sa.select(User).where(User.email == "officer@example.vn")),
                                     run_checks=checks)
        db.session.commit()
        url = f"/department/audits/{audit.id}"
    page = officer.get(url).get_data(as_text=True)
    assert "Automatic check:" in page and "audit-outcome--fail" in page
    assert "business registration number" in page  # the missing field, in words
    assert "Tiêu đen Xuân Thọ · lot L250529-X · expired · expires 20/11/2026 · 18 units on hand" in page
