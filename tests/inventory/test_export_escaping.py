"""A point's stock exports (CSV and XLSX) write producers' text as text, never as a formula."""
from shop.accounts.models import User
from shop.extensions import db
from shop.sales_points.models import SalesPoint
from tests.core.test_export_escaping import assert_csv_has_no_formula, assert_no_formula
from tests.factories import make_product, make_stock

PRODUCT_NAME = "=cmd|' /C calc'!A0"
LOT_CODE = "@SUM(1+1)"


def test_stock_exports_keep_formula_like_names_as_text(desk):
    with desk.app.app_context():
        point, manager = db.session.get(SalesPoint, desk.point_id), db.session.get(User, desk.manager_id)
        make_stock(point, make_product(name=PRODUCT_NAME), manager, lot_code=LOT_CODE, quantity=3)
        db.session.commit()
    csv_response = desk.client.get(desk.url("/export/stock.csv"))
    assert csv_response.status_code == 200
    assert_csv_has_no_formula(csv_response.data, [PRODUCT_NAME, LOT_CODE])
    xlsx_response = desk.client.get(desk.url("/export/stock.xlsx"))
    assert xlsx_response.status_code == 200
    assert_no_formula(xlsx_response.data, [PRODUCT_NAME, LOT_CODE])
