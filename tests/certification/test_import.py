"""Bulk import of certificates from the provincial lists: every problem reported with its row and column,
matching of producers (registration number, then name without diacritics) and products, all or nothing, and the
`flask certificates import` command."""
import time
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from shop.catalog.models import Product, ProductStatus
from shop.certification import imports
from shop.certification.models import Certificate, IssuingLevel
from shop.core.clock import today
from shop.extensions import db
from shop.producers.models import LegalForm, Producer
from tests.certification.fixtures import HEADER, as_date, csv_bytes, row, xlsx_bytes
from tests.conftest import at_run_time
from tests.factories import PHU_HOA, make_certificate, make_producer, make_product

DONG_NAI = 75


def preview_of(content: bytes, name: str = "list.csv") -> imports.ImportPreview:
    with force_locale("en"):  # the messages checked below are the English ones
        return imports.preview_import(imports.read_sheet(content, name), province_code=DONG_NAI)


def errors_of(preview) -> list[tuple]:
    return [(error.row, error.column) for error in preview.errors]


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- matching ----------------------------------------------------------------------------------------------

def test_a_producer_is_found_by_registration_number_before_its_name(app_ctx):
    by_number = make_producer("Công ty TNHH Điều Vàng", legal_form="enterprise", registration_no="3600123456")
    make_producer("HTX Nông nghiệp Phú Hòa")
    product = make_product(by_number, "Hạt điều rang muối", stars=None)
    db.session.commit()
    preview = preview_of(csv_bytes([row(producer="HTX Nông nghiệp Phú Hòa", registration_no="3600123456")]))
    assert preview.ok
    [parsed] = preview.rows
    assert parsed.producer_id == by_number.id and parsed.product_id == product.id and parsed.notes == []
    summary = imports.commit_import(preview, province_code=DONG_NAI)
    db.session.commit()
    assert summary.certificates == 1 and summary.new_producers == 0 and summary.new_products == 0
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.product_id == product.id))
    assert (certificate.stars, certificate.score, certificate.level, certificate.decision_no) == (
        3, 65, IssuingLevel.PROVINCE, "100/QĐ-UBND")
    assert certificate.decision_date == date(2024, 6, 15)
    assert certificate.valid_until == date(2027, 6, 15)  # 36 months


def test_names_match_without_diacritics_or_case(app_ctx):
    producer = make_producer("HTX Nông nghiệp Phú Hòa")
    product = make_product(producer, "Hạt điều rang muối", stars=None)
    db.session.commit()
    preview = preview_of(csv_bytes([row(producer="htx nong nghiep  PHU HOA", product="hat dieu rang muoi")]))
    assert preview.ok
    assert (preview.rows[0].producer_id, preview.rows[0].product_id) == (producer.id, product.id)


def test_a_name_shared_by_two_producers_needs_the_registration_number(app_ctx):
    make_producer("HTX Phú Hòa", registration_no="111")
    make_producer("HTX Phú Hoà", registration_no="222")  # the same name once folded
    db.session.commit()
    preview = preview_of(csv_bytes([row(producer="HTX Phú Hòa")]))
    assert errors_of(preview) == [(2, "Chủ thể")]
    assert preview_of(csv_bytes([row(producer="HTX Phú Hòa", registration_no="222")])).ok


def test_unknown_producers_and_products_are_created_and_said_so_in_the_preview(app_ctx):
    known = make_producer("Cơ sở Bánh Tráng Bà Tư", legal_form="household")
    db.session.commit()
    rows = [row(number=1),  # new producer and new product
            row(number=2, product="Mật ong hoa cà phê", decision_no="101/QĐ-UBND"),  # same new producer
            row(number=3, producer="Co so banh trang ba tu", product="Bánh tráng phơi sương", group="1",
                decision_no="102/QĐ-UBND", stars=4, score=75, legal_form="", locality="")]
    preview = preview_of(csv_bytes(rows))
    assert preview.ok, preview.errors
    assert preview.rows[0].notes == ["new_producer", "new_product"]
    assert preview.rows[1].notes == ["new_producer", "new_product"]
    assert preview.rows[2].notes == ["new_product"] and preview.rows[2].producer_id == known.id
    assert preview.counts == {"rows": 3, "errors": 0, "rows_with_errors": 0, "certificates": 3, "skipped": 0,
                              "new_producers": 1, "new_products": 3}
    summary = imports.commit_import(preview, province_code=DONG_NAI)
    db.session.commit()
    assert (summary.certificates, summary.new_producers, summary.new_products) == (3, 1, 3)
    created = db.session.scalar(sa.select(Producer).where(Producer.name == "HTX Nông nghiệp Phú Hòa"))
    assert created.legal_form == LegalForm.COOPERATIVE and created.ward_code == PHU_HOA
    assert created.province_code == DONG_NAI
    products = db.session.scalars(sa.select(Product).where(Product.producer_id == created.id)).all()
    assert sorted(p.name for p in products) == ["Hạt điều rang muối", "Mật ong hoa cà phê"]
    assert all(p.status == ProductStatus.DRAFT and p.group_code == "1" for p in products)


def test_a_former_district_is_accepted_for_a_new_producer(app_ctx):
    preview = preview_of(csv_bytes([row(locality="Huyện Xuân Lộc", legal_form="Công ty TNHH")]))
    assert preview.ok
    assert preview.rows[0].former_district == "xuan-loc" and preview.rows[0].legal_form == LegalForm.ENTERPRISE


def test_a_new_producer_without_legal_form_or_locality_is_refused_by_row_and_column(app_ctx):
    preview = preview_of(csv_bytes([row(legal_form="", locality=""),
                                    row(number=2, producer="HTX Mới", legal_form="Hội nông dân",
                                        locality="Nowhere", decision_no="7/QĐ")]))
    assert errors_of(preview) == [(2, "Loại hình"), (2, "Xã/phường hoặc Huyện"), (3, "Loại hình"),
                                  (3, "Xã/phường hoặc Huyện")]
    assert "new producer" in preview.errors[0].message


# --- bad input ---------------------------------------------------------------------------------------------

def test_wrong_headers_give_one_file_error_naming_the_missing_and_unknown_columns(app_ctx):
    header = [name for name in HEADER if name not in ("Số sao", "Cấp")] + ["Hạng"]
    preview = preview_of(csv_bytes([row()[:-1]], header=header))
    [error] = preview.errors
    assert error.row == 1 and error.column is None
    assert "Số sao" in error.message and "Cấp" in error.message and "Hạng" in error.message
    assert preview.rows == [] and not preview.ok


def test_english_headers_are_accepted(app_ctx):
    header = ["No", "Product", "Producer", "Legal form", "Group", "Commune", "Stars", "Score", "Decision number",
              "Decision date", "Level", "Registration number"]
    preview = preview_of(csv_bytes([row(group="Drinks", level="province")], header=header))
    assert preview.ok and preview.rows[0].group_code == "2"


@pytest.mark.parametrize("changes, column, words", [
    ({"group": "Nông sản"}, "Nhóm", "6 OCOP groups"),
    ({"stars": 6, "score": 95}, "Số sao", "1 to 5"),
    ({"stars": 0}, "Số sao", "1 to 5"),
    ({"stars": "ba"}, "Số sao", "1 to 5"),
    ({"score": 80}, "Điểm", "50–69"),
    ({"score": 120}, "Điểm", "0 to 100"),
    ({"decision_date": lambda: (today() + timedelta(days=1)).strftime("%d/%m/%Y")}, "Ngày quyết định", "future"),
    ({"decision_date": "31/02/2024"}, "Ngày quyết định", "not a date"),
    ({"decision_no": ""}, "Số quyết định", "required"),
    ({"level": "xã"}, "Cấp", "not a level"),
    ({"level": "trung ương"}, "Cấp", "5-star"),
    ({"product": ""}, "Tên sản phẩm", "required"),
])
def test_each_bad_cell_is_reported_with_its_row_and_column(app_ctx, changes, column, words):
    changes = at_run_time(changes)
    preview = preview_of(csv_bytes([row(), row(number=2, **{"decision_no": "200/QĐ-UBND", **changes})]))
    assert [(e.row, e.column) for e in preview.errors] == [(3, column)]
    assert words in preview.errors[0].message
    assert not preview.ok and preview.rows[0].errors == []


def test_groups_are_accepted_with_or_without_diacritics_by_number_or_roman_numeral(app_ctx):
    for value, code in [("Thực phẩm", "1"), ("thuc pham", "1"), ("Nhóm 2", "2"), ("III", "3"),
                        ("THU CONG MY NGHE", "4"), ("Sinh vật cảnh", "5"), ("6", "6"), ("1.3c", "1")]:
        assert imports.parse_group(value) == code, value


def test_duplicate_rows_in_the_file_are_errors_on_the_later_row(app_ctx):
    preview = preview_of(csv_bytes([row(), row(number=2, product="hạt điều rang muối")]))
    assert errors_of(preview) == [(3, "Số quyết định")]
    assert "Row 2" in preview.errors[0].message


def test_a_certificate_already_recorded_is_skipped_and_a_conflicting_one_refused(app_ctx):
    producer = make_producer("HTX Nông nghiệp Phú Hòa")
    product = make_product(producer, "Hạt điều rang muối", stars=None)
    make_certificate(product, stars=3, score=65, decision_no="100/QĐ-UBND", decision_date=date(2024, 6, 15))
    db.session.commit()
    preview = preview_of(csv_bytes([row(), row(number=2, product="Mật ong", decision_no="9/QĐ")]))
    assert preview.ok and preview.rows[0].skipped and preview.counts["skipped"] == 1
    summary = imports.commit_import(preview, province_code=DONG_NAI)
    assert (summary.certificates, summary.skipped) == (1, 1)
    conflicting = preview_of(csv_bytes([row(stars=4, score=75)]))
    assert errors_of(conflicting) == [(2, "Số sao")] and "already recorded" in conflicting.errors[0].message


def test_nothing_is_written_while_any_row_has_an_error(app_ctx):
    before = (count(Certificate), count(Producer), count(Product))
    preview = preview_of(csv_bytes([row(), row(number=2, product="Mật ong", decision_no="9/QĐ", stars=7)]))
    assert not preview.ok
    with pytest.raises(imports.DomainError):
        imports.commit_import(preview, province_code=DONG_NAI)
    db.session.rollback()
    assert (count(Certificate), count(Producer), count(Product)) == before


# --- files -------------------------------------------------------------------------------------------------

def test_xlsx_with_title_rows_and_real_date_cells(app_ctx):
    content = xlsx_bytes([row(decision_date=date(2023, 3, 1), stars=4, score=72.0)],
                         title_rows=["DANH SÁCH SẢN PHẨM OCOP NĂM 2023", "(Kèm theo Quyết định số 100/QĐ-UBND)"])
    preview = preview_of(content, "danh-sach.xlsx")
    assert preview.ok, preview.errors
    assert preview.rows[0].number == 4 and preview.rows[0].decision_date == date(2023, 3, 1)
    assert preview.rows[0].score == 72


def test_csv_with_semicolons_and_nfd_text(app_ctx):
    import unicodedata

    nfd = unicodedata.normalize("NFD", "HTX Nông nghiệp Phú Hòa")
    preview = preview_of(csv_bytes([row(producer=nfd)], delimiter=";"))
    assert preview.ok and preview.rows[0].producer_name == "HTX Nông nghiệp Phú Hòa"


@pytest.mark.usefixtures("app_ctx")
@force_locale("en")
def test_unreadable_files_are_refused():
    with pytest.raises(imports.DomainError, match="xlsx"):
        imports.read_sheet(b"not a workbook", "list.xlsx")
    with pytest.raises(imports.DomainError, match=".csv or .xlsx"):
        imports.read_sheet(b"a,b", "list.pdf")
    with pytest.raises(imports.DomainError, match="UTF-8"):
        imports.read_sheet("Tên sản phẩm".encode("utf-16"), "list.csv")


def test_the_template_has_the_headers_and_an_example_row_that_imports(app_ctx):
    for content, name in [(imports.template_xlsx(), "t.xlsx"), (imports.template_csv(), "t.csv")]:
        sheet = imports.read_sheet(content, name)
        assert sheet.header == [column.header for column in imports.COLUMNS]
        preview = imports.preview_import(sheet, province_code=DONG_NAI)
        assert preview.ok, preview.errors
        assert preview.rows[0].decision_date == as_date("15/06/2024")


def test_a_thousand_rows_preview_in_a_few_seconds(app_ctx):
    producers = [make_producer(f"HTX Số {i}", registration_no=f"36{i:08d}") for i in range(50)]
    for i, producer in enumerate(producers):
        make_product(producer, f"Sản phẩm {i}", stars=None)
    db.session.commit()
    rows = [row(number=n, producer=f"HTX Số {n % 50}", registration_no=f"36{n % 50:08d}" if n % 2 else "",
                product=f"Sản phẩm {n % 50}" if n < 50 else f"Sản phẩm mới {n}", decision_no=f"{n}/QĐ-UBND")
            for n in range(1000)]
    content = csv_bytes(rows)
    started = time.perf_counter()
    preview = preview_of(content)
    elapsed = time.perf_counter() - started
    assert preview.ok, preview.errors[:3]
    assert preview.counts["certificates"] == 1000 and preview.counts["new_products"] == 950
    assert elapsed < 5, f"preview of 1,000 rows took {elapsed:.1f} s"


# --- the command -------------------------------------------------------------------------------------------

def test_the_command_prints_each_error_and_exits_non_zero_importing_nothing(app, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(csv_bytes([row(), row(number=2, decision_no="2/QĐ", group="Rau"),
                                row(number=3, decision_no="3/QĐ", score=99)]))
    result = app.test_cli_runner().invoke(args=["certificates", "import", str(path)])
    assert result.exit_code == 1
    assert "row 3, column Nhóm: " in result.stderr
    assert "row 4, column Điểm: A score of 99 does not give 3 stars" in result.stderr
    assert "nothing was imported" in result.stderr
    with app.app_context():
        assert count(Certificate) == 0 and count(Producer) == 0


def test_the_command_imports_a_clean_file_and_a_dry_run_writes_nothing(app, tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_bytes(xlsx_bytes([row(), row(number=2, product="Mật ong", decision_no="2/QĐ")]))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["certificates", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output + dry.stderr
    assert "Would record 2 certificate(s)" in dry.output and "Nothing was imported" in dry.output
    with app.app_context():
        assert count(Certificate) == 0 and count(Producer) == 0
    real = runner.invoke(args=["certificates", "import", str(path)])
    assert real.exit_code == 0, real.output + real.stderr
    assert "Imported 2 certificate(s)" in real.output and "1 new producer(s), 2 new product(s)" in real.output
    with app.app_context():
        assert count(Certificate) == 2
    again = runner.invoke(args=["certificates", "import", str(path)])
    assert again.exit_code == 0 and "Imported 0 certificate(s)" in again.output and "2 already recorded" in again.output


def test_the_command_refuses_an_unreadable_file(app, tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_bytes(b"garbage")
    result = app.test_cli_runner().invoke(args=["certificates", "import", str(path)])
    assert result.exit_code == 1 and "Error: " in result.stderr
