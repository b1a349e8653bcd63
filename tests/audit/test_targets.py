"""Programme targets (Decision 1698/QĐ-UBND) as data, their metrics computed from the data, and the progress
page with its server-rendered chart."""
from datetime import date

import pytest
from bs4 import BeautifulSoup

from shop.accounts.models import Role
from shop.audit.models import ProgrammeTarget
from shop.audit.targets.services import METRICS, TargetError, progress, progress_of, upsert_target
from shop.extensions import db
from shop.seeding.demo import DemoReport
from shop.seeding.demo_targets import seed_demo_targets
from shop.seeding.files import load_seed_file
from tests.conftest import login
from tests.factories import make_point, make_producer, make_product, make_user
from tests.test_accessibility import assert_accessible


def test_the_seed_file_holds_both_periods_of_decision_1698_with_known_metrics():
    rows = load_seed_file("targets.json")["targets"]
    assert len(rows) == 20
    assert {row["programme"] for row in rows} == {"1698/QĐ-UBND 2019–2020", "1698/QĐ-UBND 2021–2025"}
    assert all(row["metric"] in METRICS for row in rows)
    by_code = {row["code"]: row for row in rows}
    assert by_code["1698-2020-01"]["target_value"] == 12 and by_code["1698-2025-01"]["target_value"] == 100
    assert by_code["1698-2025-03"]["metric"] == "stars5_central" and by_code["1698-2025-03"]["target_value"] == 8
    assert by_code["1698-2025-09"]["metric"] == "points_open"


def test_seeding_the_targets_twice_creates_them_once(app_ctx):
    report = DemoReport()
    seed_demo_targets(report)
    seed_demo_targets(report)
    assert report.created["programme targets"] == 20
    assert db.session.query(ProgrammeTarget).count() == 20


def _certify(stars_by_day):
    producer = make_producer(legal_form="cooperative")
    for stars, day in stars_by_day:
        make_product(producer, stars=stars, decision_date=day)


def test_metrics_count_certificates_decided_in_the_target_period(app_ctx):
    seed_demo_targets(DemoReport())
    _certify([(4, date(2019, 5, 1)), (4, date(2019, 6, 1)), (3, date(2020, 12, 31)), (2, date(2020, 1, 1)),
              (3, date(2021, 1, 1)), (5, date(2022, 3, 1))])
    make_point("DN-TT-01", tier="centre")
    make_point("DN-XL-01")
    make_point("DN-CL-01", status="planned")
    values = {item.target.code: item for item in progress(day=date(2026, 1, 1))}
    assert values["1698-2020-01"].value == 3                 # 3★+ decided in 2019–2020 (not the 2★)
    assert values["1698-2020-01"].percent == 25 and values["1698-2020-01"].status == "missed"
    assert values["1698-2020-08"].value == 1 and values["1698-2020-08"].status == "reached"   # the centre
    assert values["1698-2025-01"].value == 2
    assert values["1698-2025-03"].value == 1                 # 5★ at central level
    assert values["1698-2025-02"].value == 0                 # 5★ at provincial level: none
    assert values["1698-2025-04"].value == 2                 # new products 3★+ in 2021–2025
    assert values["1698-2025-06"].value == 0                 # the producer's first certificate was in 2019
    assert values["1698-2025-09"].value == 1                 # one open point (the planned one does not count)
    assert values["1698-2025-05"].value is None and values["1698-2025-05"].status == "not_measured"


def test_a_running_target_is_measured_up_to_today(app_ctx):
    target, _ = upsert_target(code="T-1", programme="Thử", period_start=date(2025, 1, 1),
                              period_end=date(2030, 12, 31), metric="certified_products", target_value=2,
                              description_vi="Thử", description_en="Test")
    _certify([(3, date(2025, 2, 1))])
    item = progress_of(target, day=date(2025, 6, 1))
    assert (item.value, item.percent, item.status, item.measured_until) == (1, 50, "running", date(2025, 6, 1))
    assert progress_of(target, day=date(2024, 6, 1)).value == 0   # before the period starts


def test_targets_refuse_unknown_metrics_and_bad_periods(app_ctx):
    with pytest.raises(TargetError):
        upsert_target(code="X", programme="p", period_start=date(2025, 1, 1), period_end=date(2025, 12, 31),
                      metric="nothing", target_value=1, description_vi="x", description_en="x")
    with pytest.raises(TargetError):
        upsert_target(code="X", programme="p", period_start=date(2025, 1, 1), period_end=date(2024, 12, 31),
                      metric="certified_products", target_value=1, description_vi="x", description_en="x")


@pytest.fixture
def targets_site(app):
    with app.app_context():
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        make_user(Role.PRODUCER, email="producer@example.vn")
        seed_demo_targets(DemoReport())
        _certify([(4, date(2019, 5, 1)), (3, date(2019, 6, 1)), (3, date(2020, 2, 1))])
        db.session.commit()


def test_the_targets_page_shows_values_and_the_chart(client, targets_site):
    login(client, "officer@example.vn")
    response = client.get("/department/targets")
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert_accessible(page, "/department/targets")
    row = page.select_one('tr[data-code="1698-2020-01"]')
    assert row.select_one(".target-table__value").get_text(strip=True) == "3"
    assert "25 %" in row.get_text()
    charts = page.select("svg.target-chart__svg")
    assert len(charts) == 2 and all(svg.get("role") == "img" and svg.find("title") for svg in charts)
    bar = page.select_one('rect.target-chart__bar[data-code="1698-2020-01"]')
    assert bar["data-value"] == "3" and bar["data-percent"] == "25"
    # Unmeasured targets are in the table (the fallback), not in the chart.
    assert page.select_one('tr[data-code="1698-2020-04"] .target-table__value').get_text(strip=True) == "—"
    assert page.select_one('rect.target-chart__bar[data-code="1698-2020-04"]') is None


def test_the_targets_page_refuses_other_roles_and_guests(client, targets_site):
    response = client.get("/department/targets")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    login(client, "producer@example.vn")
    assert client.get("/department/targets").status_code == 403
