"""Demo data (`seed_demo`) and benchmark data (`seed_scale`): what they promise, and that their data obeys the
domain's rules."""
import json
import unicodedata
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from stdnum import ean

from shop.accounts.models import Role, User
from shop.accounts.services import authenticate
from shop.catalog.groups import GROUPS
from shop.catalog.models import Product, ProductStatus
from shop.certification.models import STAR_BANDS, Certificate, CertificateStatus, IssuingLevel
from shop.certification.queries import certified_stars_subquery
from shop.core.admin_units import FORMER_DISTRICTS
from shop.core.clock import VN_TZ, add_months, today
from shop.core.text import slugify
from shop.extensions import db
from shop.inventory.models import (
    AdjustmentReason,
    CounterSale,
    CounterSaleLine,
    MovementKind,
    StockLevel,
    StockMovement,
    TransferStatus,
)
from shop.inventory.queries import in_transit_for, stock_for_point, verify_ledger
from shop.inventory.services import sell_at_counter
from shop.producers.models import LegalForm, Producer
from shop.producers.queries import producer_of
from shop.sales_points.models import PointManager, PointProduct, PointStatus, PointTier, SalesPoint
from shop.sales_points.queries import get_by_code, managed_by
from shop.seeding import (
    SEED_DIR,
    DemoRefused,
    ScaleRefused,
    load_seed_file,
    scale_steps,
    seed_demo,
    seed_scale,
)
from tests.conftest import PRODUCTION

DEMO_EMAILS = {
    "admin@demo.ocop.vn": Role.ADMIN, "officer@demo.ocop.vn": Role.TRADE_OFFICER,
    "centre@demo.ocop.vn": Role.POINT_MANAGER, "xuanloc@demo.ocop.vn": Role.POINT_MANAGER,
    "producer@demo.ocop.vn": Role.PRODUCER, "customer@demo.ocop.vn": Role.CUSTOMER,
}
POINT_CODES = {"DN-TT-01", "DN-BH-01", "DN-LK-01", "DN-VC-01", "DN-TP-01", "DN-DQ-01", "DN-XL-01", "DN-CM-01",
               "DN-TN-01", "DN-TB-01", "DN-LT-01", "DN-NT-01"}
FORMER_DONG_NAI = ["bien-hoa", "long-khanh", "vinh-cuu", "tan-phu", "dinh-quan", "xuan-loc", "cam-my",
                   "thong-nhat", "trang-bom", "long-thanh", "nhon-trach"]
# The demo decisions carry fixed dates, like real ones; "most are valid" is asserted on the day the data was
# made for, so the test does not start failing as the certificates age.
REFERENCE_DAY = date(2026, 11, 24)
DISTRICT_ERA = (date(2023, 2, 24), date(2025, 7, 6))


@pytest.fixture
def demo(app_ctx):
    report = seed_demo(images=False)
    db.session.commit()
    return report


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def all_certificates() -> list[Certificate]:
    return list(db.session.scalars(sa.select(Certificate)))


def test_demo_has_the_promised_producers_and_products(demo):
    producers = list(db.session.scalars(sa.select(Producer)))
    assert len(producers) >= 30
    assert {p.legal_form for p in producers} == set(LegalForm)
    districts = {p.former_district for p in producers}
    assert set(FORMER_DONG_NAI) <= districts
    assert districts - set(FORMER_DONG_NAI), "a few producers come from former Bình Phước"
    assert all(p.ward_code and p.province_code == 75 for p in producers)
    assert all(p.registration_no.isdigit() and len(p.registration_no) == 10 for p in producers)
    assert all(p.story_md and p.phone and p.documents for p in producers)

    products = list(db.session.scalars(sa.select(Product)))
    assert len(products) >= 80
    assert {p.group_code for p in products} == set(GROUPS)
    assert all(p.price_vnd > 0 and p.unit and p.description for p in products)
    # The alcohol flag follows the alcoholic-drinks sub-group, so pages show the legal-age notice.
    alcohol = {p.name for p in products if p.is_alcohol}
    assert alcohol and alcohol == {p.name for p in products if p.subgroup_code == "2.1"}
    assert demo.totals["products"] == len(products)


def test_demo_certificates_cover_every_level_and_status(demo):
    certificates = all_certificates()
    assert {c.level for c in certificates} == set(IssuingLevel)
    for certificate in certificates:
        low, high = STAR_BANDS[certificate.stars]
        assert low <= certificate.score <= high
        assert certificate.valid_until == add_months(certificate.decision_date, 36)
        if certificate.level == IssuingLevel.CENTRAL:
            assert certificate.stars == 5
        elif certificate.level == IssuingLevel.DISTRICT:
            assert certificate.stars == 3 and DISTRICT_ERA[0] <= certificate.decision_date < DISTRICT_ERA[1]
        else:
            assert certificate.stars in (3, 4)
    statuses = [c.status_on(today()) for c in certificates]
    assert CertificateStatus.EXPIRED in statuses
    withdrawn = [c for c in certificates if c.withdrawn_on is not None]
    assert len(withdrawn) == 1 and withdrawn[0].withdrawal_decision_no and withdrawn[0].withdrawal_reason
    superseded = [c for c in certificates if c.superseded_on is not None]
    assert len(superseded) == 1
    upgrade = db.session.get(Certificate, superseded[0].superseded_by_id)
    assert (superseded[0].stars, upgrade.stars) == (3, 4) and upgrade.product_id == superseded[0].product_id
    # Most published products were certified on the day the data set was made for, by decisions of 2024–2025.
    published = count(Product, Product.status == ProductStatus.PUBLISHED)
    certified = count(certified_stars_subquery(REFERENCE_DAY))
    assert certified >= 0.8 * published
    recent = {c.product_id for c in certificates if c.decision_date.year in (2024, 2025)}
    assert len(recent) >= 0.7 * published


def test_demo_points_are_the_centre_and_one_per_former_district(demo):
    points = {p.code: p for p in db.session.scalars(sa.select(SalesPoint))}
    assert set(points) == POINT_CODES
    assert points["DN-TT-01"].tier == PointTier.CENTRE
    assert {p.former_district for code, p in points.items() if code != "DN-TT-01"} == set(FORMER_DONG_NAI)
    assert all(p.ward_code and p.latitude and p.opens_at < p.closes_at for p in points.values())
    assert sum(p.status == PointStatus.OPEN for p in points.values()) >= 11

    carried = {code: count(PointProduct, PointProduct.point_id == p.id) for code, p in points.items()}
    assert carried["DN-TT-01"] == max(carried.values())
    assert all(n > 0 for code, n in carried.items() if points[code].is_open)
    # Points sell OCOP products: nothing whose certificate lapsed or was withdrawn, no drafts.
    certified = certified_stars_subquery(today())
    uncertified = db.session.scalar(
        sa.select(sa.func.count()).select_from(PointProduct)
        .join(Product, Product.id == PointProduct.product_id)
        .outerjoin(certified, certified.c.product_id == PointProduct.product_id)
        .where(sa.or_(certified.c.product_id.is_(None), Product.status != ProductStatus.PUBLISHED)))
    assert uncertified == 0


def test_demo_accounts_log_in_with_the_demo_password(demo, app_ctx):
    assert {(a.email, a.role) for a in demo.accounts} == {(e, r.value) for e, r in DEMO_EMAILS.items()}
    for email, role in DEMO_EMAILS.items():
        user = authenticate(email, app_ctx.config["DEMO_PASSWORD"])
        assert user.role == role
    producer_user = authenticate("producer@demo.ocop.vn", "ocop-demo")
    assert producer_of(producer_user) is not None
    assert [p.code for p in managed_by(authenticate("centre@demo.ocop.vn", "ocop-demo"))] == ["DN-TT-01"]
    assert [p.code for p in managed_by(authenticate("xuanloc@demo.ocop.vn", "ocop-demo"))] == ["DN-XL-01"]


def test_every_demo_gtin_is_valid(demo):
    products = list(db.session.scalars(sa.select(Product)))
    gtins = [p.gtin for p in products if p.gtin]
    assert len(gtins) >= 0.6 * len(products)
    assert all(len(g) == 13 and g.startswith("893") and ean.is_valid(g) for g in gtins)


def test_running_the_demo_twice_changes_nothing(demo):
    before = {table.name: count(table) for table in db.metadata.sorted_tables}
    again = seed_demo(images=False)
    db.session.commit()
    assert not again.created
    # Not even the audit trail: the second run writes nothing at all.
    assert {table.name: count(table) for table in db.metadata.sorted_tables} == before
    assert again.totals == demo.totals


def test_demo_pictures_are_generated_and_stored(app_ctx):
    seed_demo()
    db.session.commit()
    upload_dir = Path(app_ctx.config["UPLOAD_DIR"])
    for product in db.session.scalars(sa.select(Product)):
        assert product.cover is not None and product.cover.alt
        assert list(upload_dir.rglob(f"{product.cover.stem}-*.webp"))
    assert all(producer.logo is not None for producer in db.session.scalars(sa.select(Producer)))


def test_production_config_refuses_demo_data(make_app):
    app = make_app(**PRODUCTION)
    with app.app_context():
        with pytest.raises(DemoRefused, match="SHOP_ENV=production"):
            seed_demo(images=False)
        db.session.rollback()
        assert count(User) == 0 and count(Producer) == 0


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_seed_files_are_nfc_and_consistent():
    files = sorted(SEED_DIR.glob("*.json"))
    assert {f.name for f in files} >= {"producers.json", "products.json", "points.json", "accounts.json",
                                       "decisions.json", "localities.json", "scale.json"}
    for path in files:
        for text in _strings(json.loads(path.read_text(encoding="utf-8"))):
            assert unicodedata.is_normalized("NFC", text), f"{path.name}: not NFC: {text!r}"
    readme = (SEED_DIR / "README.md").read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", readme) and "illustrative" in readme
    # The files refer to each other by natural keys: check that every reference resolves.
    products = load_seed_file("products.json")
    producer_slugs = {p["slug"] for p in load_seed_file("producers.json")}
    assert all(p["slug"] == slugify(p["name"]) for p in products)
    assert len({p["slug"] for p in products}) == len(products)
    assert {p["producer"] for p in products} <= producer_slugs
    assert set(load_seed_file("localities.json")) == set(FORMER_DISTRICTS)


# --- scale data -------------------------------------------------------------------------------------------

def test_scale_creates_exactly_the_requested_counts_with_valid_data(app_ctx):
    steps = []
    report = seed_scale(products=300, producers=100, points=20, seed=7, progress=steps.append)
    db.session.commit()
    assert (count(Product), count(Producer), count(SalesPoint)) == (300, 100, 20)
    assert (report.products, report.producers, report.points) == (300, 100, 20)
    assert sum(steps) == 100 + 2 * 300 + 2 * 20

    products = list(db.session.scalars(sa.select(Product)))
    assert len({p.name for p in products}) == len(products), "names are distinct, so each can be searched"
    assert all(ean.is_valid(p.gtin) for p in products if p.gtin)
    assert sum(1 for p in products if p.gtin) > 150
    assert {p.group_code for p in products} == set(GROUPS)
    assert {p.producer_id for p in products} == {p.id for p in db.session.scalars(sa.select(Producer))}

    certificates = all_certificates()
    for certificate in certificates:
        low, high = STAR_BANDS[certificate.stars]
        assert low <= certificate.score <= high and certificate.decision_date < today()
        assert certificate.valid_until == add_months(certificate.decision_date, 36)
        assert (certificate.level == IssuingLevel.CENTRAL) == (certificate.stars == 5)
        if certificate.level == IssuingLevel.DISTRICT:
            assert certificate.stars == 3 and DISTRICT_ERA[0] <= certificate.decision_date < DISTRICT_ERA[1]
        if certificate.superseded_by_id:
            newer = db.session.get(Certificate, certificate.superseded_by_id)
            assert newer.product_id == certificate.product_id
            assert certificate.decision_date < newer.decision_date <= certificate.valid_until
    statuses = [c.status_on(today()) for c in certificates]
    assert statuses.count(CertificateStatus.VALID) > 0.8 * len(products)
    assert CertificateStatus.EXPIRED in statuses and CertificateStatus.WITHDRAWN in statuses
    assert CertificateStatus.SUPERSEDED in statuses

    certified = set(db.session.scalars(sa.select(certified_stars_subquery(today()).c.product_id)))
    for point in db.session.scalars(sa.select(SalesPoint)):
        carried = set(db.session.scalars(
            sa.select(PointProduct.product_id).where(PointProduct.point_id == point.id)))
        assert 180 <= len(carried) <= 220 and carried <= certified


def test_scale_data_goes_beside_the_demo_data(demo):
    seed_scale(products=300, producers=100, points=20)
    db.session.commit()
    assert count(Product) == demo.totals["products"] + 300
    assert count(SalesPoint) == len(POINT_CODES) + 20


def test_scale_refuses_a_database_that_already_has_a_large_catalogue(app_ctx):
    seed_scale(products=1001, producers=50, points=0)
    db.session.commit()
    with pytest.raises(ScaleRefused, match="already has 1001 products"):
        seed_scale(products=10, producers=5, points=1)
    db.session.rollback()
    assert count(Product) == 1001


def test_scale_refuses_nonsense_counts(app_ctx):
    with pytest.raises(ScaleRefused):
        seed_scale(products=10, producers=0, points=1)


# --- demo stock -------------------------------------------------------------------------------------------

DEMO_MANAGERS = {"centre@demo.ocop.vn": "DN-TT-01", "xuanloc@demo.ocop.vn": "DN-XL-01"}


def _demo_point(email: str) -> SalesPoint:
    [point] = managed_by(authenticate(email, "ocop-demo"))
    return point


def test_both_demo_managers_have_lots_on_their_shelves(demo):
    day = today()
    for email, code in DEMO_MANAGERS.items():
        point = _demo_point(email)
        assert point.code == code
        rows = [row for row in stock_for_point(point) if row.on_hand > 0]
        assert len({row.product.id for row in rows}) >= 10, f"{code} has goods of many products"
        carried = set(db.session.scalars(sa.select(PointProduct.product_id).where(PointProduct.point_id == point.id)))
        assert {row.product.id for row in rows} <= carried
        lots_per_product = Counter(row.product.id for row in rows)
        assert max(lots_per_product.values()) >= 2, f"{code}: several lots of a product"
        # What the alerts are for: lots expiring within the window, one expired lot still on the shelf.
        soon = [row for row in rows if row.expiry_date and day <= row.expiry_date <= day + timedelta(days=30)]
        expired = [row for row in rows if row.expiry_date and row.expiry_date < day]
        assert soon, f"{code}: lots expiring soon"
        assert len(expired) == 1, f"{code}: one expired lot left on the shelf"
        assert any(row.expiry_date is None for row in rows), f"{code}: non-perishable goods"
        assert all(row.reserved == 0 and row.available == row.on_hand for row in rows)


def test_demo_points_have_thirty_days_of_counter_sales_in_the_ledger(demo):
    now, day = datetime.now(UTC), today()
    for email in DEMO_MANAGERS:
        point = _demo_point(email)
        sales = list(db.session.scalars(sa.select(CounterSale).where(CounterSale.point_id == point.id)))
        days = {sale.created_at.astimezone(VN_TZ).date() for sale in sales}
        assert len(days & {day - timedelta(days=n) for n in range(1, 31)}) == 30, "a sale every day of the month"
        assert min(days) >= day - timedelta(days=30) and all(sale.created_at <= now for sale in sales)
        for sale in sales:
            assert sale.lines and sale.total_vnd == sum(line.total_vnd for line in sale.lines)
        # Every sale line is one ledger row, dated like its sale and pointing at its number.
        sold = db.session.execute(
            sa.select(StockMovement.reference, sa.func.sum(StockMovement.quantity),
                      sa.func.min(StockMovement.occurred_at))
            .where(StockMovement.point_id == point.id, StockMovement.kind == MovementKind.COUNTER_SALE)
            .group_by(StockMovement.reference)).all()
        assert {number: (-units, at) for number, units, at in sold} == {
            sale.number: (sum(line.quantity for line in sale.lines), sale.created_at) for sale in sales}
        assert sorted(sale.number for sale in sales) == [f"{point.code}-{n:06d}" for n in range(1, len(sales) + 1)]


def test_the_next_real_sale_continues_the_demo_numbering(demo):
    point = _demo_point("xuanloc@demo.ocop.vn")
    before = count(CounterSale, CounterSale.point_id == point.id)
    row = next(row for row in stock_for_point(point)
               if row.available > 0 and row.expiry_date and row.expiry_date > today() + timedelta(days=40))
    sale = sell_at_counter(point, [(row.product, 1)], payment_method="cash",
                           actor=authenticate("xuanloc@demo.ocop.vn", "ocop-demo"))
    db.session.commit()
    assert sale.number == f"DN-XL-01-{before + 1:06d}"


def test_demo_has_a_transfer_in_transit_and_a_count_correction(demo):
    centre, xuan_loc = _demo_point("centre@demo.ocop.vn"), _demo_point("xuanloc@demo.ocop.vn")
    transit = in_transit_for(xuan_loc)
    assert transit and transit == in_transit_for(centre), "both ends see the goods on the way"
    transfer = transit[0].transfer
    assert (transfer.from_point_id, transfer.to_point_id, transfer.status) == (centre.id, xuan_loc.id,
                                                                               TransferStatus.SHIPPED)
    corrections = db.session.scalars(sa.select(StockMovement).where(
        StockMovement.point_id == xuan_loc.id, StockMovement.reason == AdjustmentReason.COUNT_CORRECTION)).all()
    assert [m.quantity for m in corrections] == [-1]


def test_demo_stock_levels_equal_the_ledger(demo, runner):
    assert verify_ledger() == []
    assert count(StockMovement) == demo.totals["stock movements"] > 1000
    result = runner.invoke(args=["inventory", "verify"])
    assert result.exit_code == 0 and "no difference" in result.output


def test_seeding_the_demo_again_adds_no_stock(demo):
    movements, sales = count(StockMovement), count(CounterSale)
    again = seed_demo(images=False)
    db.session.commit()
    assert not again.created
    assert (count(StockMovement), count(CounterSale)) == (movements, sales)
    assert verify_ledger() == []


# --- scale stock ------------------------------------------------------------------------------------------

def test_scale_movements_are_exactly_the_rows_asked_for_and_balance(app_ctx):
    steps = []
    report = seed_scale(products=300, producers=100, points=20, seed=3, movements=12_000, progress=steps.append)
    db.session.commit()
    assert count(StockMovement) == report.stock.movements == 12_000
    assert sum(steps) == scale_steps(300, 100, 20, 12_000)
    assert verify_ledger() == []
    assert db.session.scalar(sa.select(sa.func.min(StockLevel.on_hand))) >= 0
    assert count(StockLevel) == report.stock.levels and count(CounterSale) == report.stock.counter_sales > 0
    # Only open points hold stock, each moved by its own manager.
    stocked = db.session.scalars(sa.select(SalesPoint).join(StockLevel, StockLevel.point_id == SalesPoint.id)
                                 .distinct()).all()
    assert stocked and all(point.status == PointStatus.OPEN for point in stocked)
    strangers = db.session.scalar(
        sa.select(sa.func.count()).select_from(StockMovement)
        .outerjoin(PointManager, (PointManager.point_id == StockMovement.point_id)
                   & (PointManager.user_id == StockMovement.actor_id)).where(PointManager.user_id.is_(None)))
    assert strangers == 0
    # Every counter-sale row belongs to a sale with a line for it; the busy point sold every day of the month.
    lines = db.session.scalar(sa.select(sa.func.sum(CounterSaleLine.quantity)))
    sold = db.session.scalar(sa.select(sa.func.sum(StockMovement.quantity))
                             .where(StockMovement.kind == MovementKind.COUNTER_SALE))
    assert lines == -sold
    busy = get_by_code(report.stock.busy_point)
    days = {sale.created_at.astimezone(VN_TZ).date() for sale in db.session.scalars(
        sa.select(CounterSale).where(CounterSale.point_id == busy.id))}
    assert {today() - timedelta(days=n) for n in range(1, 31)} <= days


def test_few_scale_movements_still_balance(app_ctx):
    report = seed_scale(products=100, producers=40, points=5, movements=500)
    db.session.commit()
    assert count(StockMovement) == 500 and report.stock.busy_point is None
    assert verify_ledger() == []


def test_seed_scale_command_takes_movements(runner):
    result = runner.invoke(args=["seed", "scale", "--products", "200", "--producers", "60", "--points", "8",
                                 "--movements", "9000"])
    assert result.exit_code == 0, result.output
    assert "Stock: 9000 ledger rows" in result.output
    refused = runner.invoke(args=["seed", "scale", "--movements", "-5"])
    assert refused.exit_code == 2
