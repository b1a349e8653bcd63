"""The periodic report agrees with the data to the unit (issue 6: "if the certificates decided in 2019 are 18
products of 12 producers with 2 at 4★ and 15 at 3★, the 2019 report says exactly that"), its periods have
inclusive bounds, an empty period is a valid report of zeros, and the XLSX and PDF files carry the same numbers.

The 2019 data: 12 producers (5 cooperatives, 4 enterprises, 2 households, 1 cooperative group) in Định Quán and
Xuân Lộc, 18 products decided in 2019: 2 at 4★, 15 at 3★ and 1 at 2★ (evaluated, not certified). In 2020: one
of those products re-rated 4★, two new products of a new producer, one 2019 certificate withdrawn."""
import io
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from shop.accounts.models import Role
from shop.audit.models import Audit, AuditStatus, CriteriaSet, Verdict
from shop.audit.reports.build import build_report
from shop.audit.reports.pdf import build_pdf
from shop.audit.reports.periods import (
    PeriodError,
    date_range,
    half,
    parse_day,
    parse_period_name,
    quarter,
    whole_year,
)
from shop.audit.reports.xlsx import build_xlsx, sheet_names
from shop.certification.services import withdraw_certificate
from shop.core.clock import today
from shop.core.models import utcnow
from shop.extensions import db
from shop.inventory.services import sell_at_counter
from shop.orders import services as orders
from tests.conftest import login
from tests.factories import make_certificate, make_point, make_producer, make_product, make_stock, make_user
from tests.orders.conftest import CONTACT
from tests.test_accessibility import assert_accessible

FORMS_2019 = ["cooperative"] * 5 + ["enterprise"] * 4 + ["household"] * 2 + ["cooperative_group"]
# Products per producer: 12 producers, 18 products.
PRODUCTS_PER_PRODUCER = [3, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 2]
STARS_2019 = [4, 4] + [3] * 15 + [2]


def make_2019(with_2020: bool = True) -> dict:
    producers = [make_producer(f"Chủ thể {i + 1}", legal_form=form,
                               former_district="dinh-quan" if i < 7 else "xuan-loc")
                 for i, form in enumerate(FORMS_2019)]
    products, stars = [], iter(STARS_2019)
    day = iter(date(2019, 1, 1) + timedelta(days=20 * i) for i in range(18))
    for producer, count in zip(producers, PRODUCTS_PER_PRODUCER, strict=True):
        for _ in range(count):
            product = make_product(producer, stars=None, group_code="1", subgroup_code="1.3c")
            given = next(stars)
            make_certificate(product, stars=given, decision_date=next(day), level="province")
            products.append(product)
    # Boundaries: the first and last 2019 days are in; 31/12/2018 and 01/01/2020 are out.
    first = products[0].id
    if with_2020:
        make_certificate(products[2], stars=4, decision_date=date(2020, 6, 30))  # a 2019 product re-rated
        newcomer = make_producer("HTX Mới 2020", legal_form="cooperative", former_district="long-khanh")
        make_product(newcomer, stars=3, decision_date=date(2020, 1, 1), group_code="2", subgroup_code="2.2")
        make_product(newcomer, stars=5, decision_date=date(2020, 12, 31), group_code="2", subgroup_code="2.2")
        withdrawn = make_certificate(products[5], stars=3, decision_date=date(2019, 12, 31))
        withdraw_certificate(withdrawn, decision_no="99/QĐ-UBND", reason="Không duy trì tiêu chí.",
                             on=date(2020, 3, 31))
    early = make_producer("Chủ thể 2018", legal_form="household")
    make_product(early, stars=3, decision_date=date(2018, 12, 31))
    return {"first": first}


def summary_of(report) -> dict:
    return dict(report.table("summary").rows)


def test_the_2019_report_says_18_products_of_12_producers_2_at_4_stars_and_15_at_3_stars(app_ctx):
    make_2019()
    report = build_report(date(2019, 1, 1), date(2019, 12, 31))
    figures = list(summary_of(report).values())
    # evaluated, certified 3★+, 5★, 4★, 3★, below 3★, producers, producers certified, new producers
    assert figures == [18, 17, 0, 2, 15, 1, 12, 12, 12]
    stars = dict(report.table("stars").rows)
    assert stars == {"5★": 0, "4★": 2, "3★": 15, "2★": 1, "1★": 0}
    assert report.table("stars").totals[1] == 18
    forms = [row[1:] for row in report.table("legal_forms").rows]
    # enterprise, cooperative, cooperative group, household: producers, certified, new, products
    assert forms == [[4, 4, 4, 4], [5, 5, 5, 10], [1, 1, 1, 2], [2, 2, 2, 2]]
    assert report.table("legal_forms").totals[1:] == [12, 12, 12, 18]
    groups = report.table("groups")
    assert groups.rows[0][1:] == [18, 17] and groups.totals[1:] == [18, 17]
    assert report.table("levels").totals[1] == 18
    localities = report.table("localities")
    assert sorted((row[0], row[2], row[3]) for row in localities.rows) == [("H. Xuân Lộc", 5, 6),
                                                                          ("H. Định Quán", 7, 12)]
    assert localities.totals[2:4] == [12, 18]
    assert len(report.table("new_producers").rows) == 12
    assert report.table("withdrawn").rows == []


def test_2020_certificates_are_not_counted_in_2019_and_the_2020_report_sees_them(app_ctx):
    make_2019()
    report_2020 = build_report(*_bounds(whole_year(2020)))
    figures = summary_of(report_2020)
    assert list(figures.values())[:2] == [3, 3]          # the re-rated product and the newcomer's two
    assert list(figures.values())[-1] == 1               # one new producer
    assert dict(report_2020.table("stars").rows)["5★"] == 1
    withdrawn = report_2020.table("withdrawn")
    assert len(withdrawn.rows) == 1 and withdrawn.rows[0][6] == "99/QĐ-UBND"
    # The 2019 certificate withdrawn in 2020 still counts as evaluated in 2019 (it was decided then).
    assert next(iter(summary_of(build_report(*_bounds(whole_year(2019)))).values())) == 18


def _bounds(period):
    return period.start, period.end


def evaluated(period) -> int:
    return report_table_rows(build_report(*_bounds(period)), "summary")[0][1]


def report_table_rows(report, key):
    return report.table(key).rows


def test_period_bounds_are_inclusive():
    assert _bounds(quarter(2025, 1)) == (date(2025, 1, 1), date(2025, 3, 31))
    assert _bounds(quarter(2024, 2)) == (date(2024, 4, 1), date(2024, 6, 30))
    assert _bounds(quarter(2025, 3)) == (date(2025, 7, 1), date(2025, 9, 30))
    assert _bounds(quarter(2025, 4)) == (date(2025, 10, 1), date(2025, 12, 31))
    assert _bounds(half(2025, 1)) == (date(2025, 1, 1), date(2025, 6, 30))
    assert _bounds(half(2025, 2)) == (date(2025, 7, 1), date(2025, 12, 31))
    assert parse_period_name("2025-q3") == quarter(2025, 3)
    assert parse_period_name("2025-H2").slug == "2025-H2"
    assert date_range(date(2025, 7, 1), date(2025, 9, 30)).slug == "2025-Q3"
    assert date_range(date(2025, 7, 2), date(2025, 9, 30)).slug == "2025-07-02_2025-09-30"
    assert parse_day("31/03/2025") == parse_day("2025-03-31") == date(2025, 3, 31)
    for bad in ("2025-Q5", "25", "2025-X1"):
        with pytest.raises(PeriodError):
            parse_period_name(bad)
    with pytest.raises(PeriodError):
        date_range(date(2025, 2, 1), date(2025, 1, 31))
    with pytest.raises(PeriodError):
        parse_day("31/02/2025")


def test_quarter_edges_count_decisions_on_the_first_and_last_day(app_ctx):
    producer = make_producer()
    for day in (date(2025, 3, 31), date(2025, 4, 1), date(2025, 6, 30), date(2025, 7, 1)):
        make_product(producer, stars=3, decision_date=day)
    assert evaluated(quarter(2025, 1)) == 1
    assert evaluated(quarter(2025, 2)) == 2
    assert evaluated(quarter(2025, 3)) == 1
    assert evaluated(half(2025, 1)) == 3


def test_an_empty_period_is_a_valid_report_of_zeros(app_ctx):
    make_2019(with_2020=False)
    report = build_report(date(2010, 1, 1), date(2010, 3, 31))
    assert all(value == 0 for value in summary_of(report).values())
    assert report.table("stars").totals[1] == 0
    assert report.table("sales").rows == [] and report.table("sales").totals[2:] == [0] * 7
    assert build_xlsx(report)[:2] == b"PK"
    assert build_pdf(report)[:5] == b"%PDF-"


def test_points_by_tier_and_verdict_use_the_latest_audit_concluded_by_the_end(app_ctx):
    officer = make_user(Role.TRADE_OFFICER)
    centre = make_point("DN-TT-01", tier="centre")
    point = make_point("DN-XL-01")
    make_point("DN-BH-01")
    make_point("DN-CL-01", status="planned")
    criteria = CriteriaSet(code="950/QĐ-BCT", title="Tiêu chí 950", period_start=date(2023, 1, 1),
                           allowed_location_types=[])
    db.session.add(criteria)
    db.session.flush()
    now = utcnow()
    for where, verdict, when in ((point, Verdict.DOES_NOT_MEET, now - timedelta(days=60)),
                                 (point, Verdict.MEETS, now), (centre, Verdict.MEETS_WITH_CONDITIONS, now)):
        db.session.add(Audit(point_id=where.id, set_id=criteria.id, status=AuditStatus.CONCLUDED, verdict=verdict,
                             created_by_id=officer.id, concluded_at=when, concluded_by_id=officer.id))
    db.session.flush()
    table = build_report(today() - timedelta(days=10), today()).table("points")
    rows = [row[1:] for row in table.rows]
    # centre, then point: meets, with conditions, does not meet, not audited, total
    assert rows == [[0, 1, 0, 0, 1], [1, 0, 0, 2, 3]]
    assert table.totals[1:] == [1, 1, 0, 2, 4]
    earlier = build_report(today() - timedelta(days=40), today() - timedelta(days=30)).table("points")
    assert earlier.rows[1][1:] == [0, 0, 1, 2, 3]


def test_sales_and_stock_by_point(app_ctx):
    manager = make_user(Role.POINT_MANAGER)
    point = make_point("DN-XL-01", name="Điểm OCOP Xuân Lộc")
    product = make_product(price_vnd=120_000)
    make_stock(point, product, manager, quantity=10)
    sell_at_counter(point, [(product, 3)], payment_method="cash", actor=manager)
    sell_at_counter(point, [(product, 1)], payment_method="card", actor=manager)
    order = orders.create_order(point, [(product, 2)], fulfilment="pickup", payment_method="pay_at_pickup",
                                contact=CONTACT)
    orders.mark_ready(order, actor=manager)
    orders.hand_over(order, order.pickup_code, actor=manager)
    waiting = orders.create_order(point, [(product, 1)], fulfilment="pickup", payment_method="pay_at_pickup",
                                  contact=CONTACT)  # held, not handed over: not a sale, still on hand
    assert waiting.status.value == "confirmed"
    db.session.flush()
    report = build_report(today(), today())
    rows = report.table("sales").rows
    # code, name, sales, units, counter VND, order units, order VND, total VND, stock at end
    assert rows == [["DN-XL-01", "Điểm OCOP Xuân Lộc", 2, 4, 480_000, 2, 240_000, 720_000, 4]]
    yesterday = build_report(today() - timedelta(days=1), today() - timedelta(days=1)).table("sales")
    assert yesterday.rows == []


def test_expiring_certificates_are_listed_by_their_last_valid_day(app_ctx):
    product = make_product(stars=None, name="Mật ong hoa cà phê")
    make_certificate(product, stars=4, decision_date=date(2022, 9, 30))  # valid until 30/09/2025
    table = build_report(*_bounds(quarter(2025, 3))).table("expiring")
    assert [(row[0], row[5]) for row in table.rows] == [("Mật ong hoa cà phê", date(2025, 9, 30))]
    assert build_report(*_bounds(quarter(2025, 4))).table("expiring").rows == []


def test_the_xlsx_has_a_cover_and_one_sheet_per_table_with_the_numbers(app_ctx):
    make_2019()
    report = build_report(date(2019, 1, 1), date(2019, 12, 31))
    workbook = load_workbook(io.BytesIO(build_xlsx(report)))
    assert len(workbook.sheetnames) == len(report.tables) + 1
    assert all(len(name) <= 31 for name in workbook.sheetnames)
    assert len({name.lower() for name in workbook.sheetnames}) == len(workbook.sheetnames)
    cover = workbook[workbook.sheetnames[0]]
    assert cover["B2"].value.date() == date(2019, 1, 1) and cover["C2"].value.date() == date(2019, 12, 31)
    stars = workbook[workbook.sheetnames[2]]
    values = [[cell.value for cell in row] for row in stars.iter_rows()]
    header = values.index([column.label for column in report.table("stars").columns])
    assert stars.cell(row=header + 1, column=1).font.bold
    assert values[header + 1:] == [["5★", 0], ["4★", 2], ["3★", 15], ["2★", 1], ["1★", 0],
                                   [report.table("stars").totals[0], 18]]
    assert stars.cell(row=len(values), column=2).font.bold


def test_the_xlsx_formats_money_as_vnd(app_ctx):
    manager = make_user(Role.POINT_MANAGER)
    point = make_point("DN-XL-01")
    product = make_product(price_vnd=120_000)
    make_stock(point, product, manager, quantity=10)
    sell_at_counter(point, [(product, 2)], payment_method="cash", actor=manager)
    report = build_report(today(), today())
    workbook = load_workbook(io.BytesIO(build_xlsx(report)))
    sheet = workbook[workbook.sheetnames[1 + [t.key for t in report.tables].index("sales")]]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == 240_000]
    assert cells and all("₫" in cell.number_format for cell in cells)


def test_sheet_names_are_short_clean_and_unique():
    names = sheet_names(["A" * 40, "A" * 40, "a/b:c*?[x]", "Báo cáo"], taken=set())
    assert names[0] == "A" * 31 and names[1].endswith("(2)") and len(names[1]) <= 31
    assert not set("/:*?[]") & set(names[2])


def pdf_text(data: bytes) -> str:
    """The text of an uncompressed fpdf2 PDF (each string decoded once per embedded font subset). DejaVu is
    embedded as a subset: each glyph is a 2-byte code in the (literal string) of a Tj operator, mapped back to
    Unicode through the font's ToUnicode CMap."""
    import re

    raw = data.decode("latin-1")
    cmaps = [{int(glyph, 16): bytes.fromhex(uni).decode("utf-16-be")
              for glyph, uni in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block)}
             for block in re.findall(r"beginbfchar(.*?)endbfchar", raw, re.DOTALL)]
    escapes = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "(": "(", ")": ")", "\\": "\\"}
    texts, index = [], 0
    while (index := raw.find("BT ", index)) != -1:
        stop = raw.find("ET", index)
        chunk, position = raw[index:stop], 0
        while (position := chunk.find("(", position)) != -1:
            out, position = [], position + 1
            while chunk[position] != ")":
                char = chunk[position]
                if char == "\\":
                    position += 1
                    char = chunk[position]
                    if char.isdigit():
                        digits = re.match(r"[0-7]{1,3}", chunk[position:]).group(0)
                        char, position = chr(int(digits, 8)), position + len(digits) - 1
                    else:
                        char = escapes.get(char, char)
                out.append(char)
                position += 1
            codes = [ord(out[i]) << 8 | ord(out[i + 1]) for i in range(0, len(out) - 1, 2)]
            # One subset per style (regular, bold), each with its own codes: decode with each, keep all.
            texts.extend("".join(cmap.get(code, "?") for code in codes) for cmap in cmaps)
        index = stop
    return "\n".join(texts)


def test_the_pdf_prints_the_title_the_period_and_vietnamese_words(app_ctx):
    make_2019()
    report = build_report(date(2019, 1, 1), date(2019, 12, 31))
    data = build_pdf(report, compress=False)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for words in (report.title, "01/01/2019", "31/12/2019", "Thực phẩm", "H. Định Quán", "H. Xuân Lộc",
                  "Chủ thể 12", report.table("legal_forms").rows[1][0]):
        assert words in text, words
    compressed = build_pdf(report)
    assert compressed.startswith(b"%PDF-") and len(compressed) < len(data)


# --- the page ------------------------------------------------------------------------------------------------

@pytest.fixture
def officer(app):
    with app.app_context():
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        make_user(Role.POINT_MANAGER, email="manager@example.vn")
        make_user(Role.CUSTOMER, email="customer@example.vn")
        make_2019()
        db.session.commit()


def test_the_report_page_shows_the_tables_and_download_links(client, officer):
    login(client, "officer@example.vn")
    response = client.get("/department/reports?kind=year&year=2019")
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert_accessible(page, "/department/reports")
    summary = page.select_one("#table-stars")
    assert summary is not None and "18" in summary.select_one("tfoot").get_text()
    links = {a.get_text(strip=True): a["href"] for a in page.select(".report-downloads a")}
    assert any("report.xlsx?" in href and "from=2019-01-01" in href and "to=2019-12-31" in href
               for href in links.values())
    assert any("report.pdf?" in href for href in links.values())


def test_the_report_page_with_a_quarter_and_with_dates(client, officer):
    login(client, "officer@example.vn")
    assert client.get("/department/reports?kind=quarter&year=2019&quarter=2").status_code == 200
    assert client.get("/department/reports?kind=range&start=2019-01-01&end=2019-03-31").status_code == 200
    assert client.get("/department/reports").status_code == 200  # the form alone, with defaults


def test_the_report_page_refuses_a_bad_period_with_400(client, officer):
    login(client, "officer@example.vn")
    response = client.get("/department/reports?kind=range&start=2019-05-01&end=2019-01-01")
    assert response.status_code == 400
    assert "error-summary" in response.get_data(as_text=True)
    assert client.get("/department/reports?kind=quarter&year=2019&quarter=7").status_code == 400


def test_downloads_are_attachments_with_a_safe_name(client, officer):
    login(client, "officer@example.vn")
    response = client.get("/department/reports/report.xlsx?from=2019-07-01&to=2019-09-30")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert "bao-cao-ocop-2019-Q3.xlsx" in response.headers["Content-Disposition"]
    load_workbook(io.BytesIO(response.data))
    response = client.get("/department/reports/report.pdf?from=2019-01-01&to=2019-12-31")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert "bao-cao-ocop-2019.pdf" in response.headers["Content-Disposition"]
    assert response.mimetype == "application/pdf"


@pytest.mark.parametrize("query", ["", "?from=2019-01-01", "?from=abc&to=2019-01-01", "?from=2019-12-01&to=2019-01-01"])
def test_downloads_refuse_bad_parameters_with_400(client, officer, query):
    login(client, "officer@example.vn")
    response = client.get(f"/department/reports/report.xlsx{query}")
    assert response.status_code == 400


@pytest.mark.parametrize("email", ["manager@example.vn", "customer@example.vn"])
def test_the_report_pages_refuse_other_roles(client, officer, email):
    login(client, email)
    for url in ("/department/reports", "/department/reports/report.xlsx?from=2019-01-01&to=2019-12-31",
                "/department/reports/report.pdf?from=2019-01-01&to=2019-12-31", "/department/targets"):
        assert client.get(url).status_code == 403, url


def test_guests_are_sent_to_login(client, officer):
    for url in ("/department/reports", "/department/reports/report.pdf?from=2019-01-01&to=2019-12-31",
                "/department/targets"):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"], url


def test_pdf_tables_repeat_their_header_on_every_page(app_ctx):
    from shop.audit.reports.tables import INT, Column, Report, Table

    table = Table("long", "Danh sách dài", [Column("Tên điểm bán"), Column("Số lượng", INT)],
                  rows=[[f"Điểm số {i}", i] for i in range(150)], totals=["Tổng", sum(range(150))])
    report = Report(period=date_range(date(2025, 1, 1), date(2025, 3, 31)), generated_at=utcnow(), tables=[table])
    data = build_pdf(report, compress=False)
    pages = data.count(b"/Type /Page\n")
    assert pages >= 3
    lines = pdf_text(data).split("\n")
    assert sum(line == "Tên điểm bán" for line in lines) >= pages  # once per page (per font subset decoding)
    assert "Điểm số 149" in lines and "11.175" in lines
