"""`flask seed demo`: the provincial centre and one point per former district, producers, products with
their certificates, placeholder pictures, assortments and the demo accounts, read from seed/*.json and
written through the domain services. Idempotent: every record is looked up by its natural key first (point
code, producer registration number or slug, product slug, certificate decision number + product, user
email), so a second run creates nothing."""
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO

import sqlalchemy as sa
from flask import current_app

from shop.accounts.models import User
from shop.accounts.services import create_user, get_user_by_email
from shop.catalog.models import Product, ProductStatus
from shop.catalog.services import add_product_image, create_product
from shop.certification.models import Certificate
from shop.certification.queries import certified_stars_subquery
from shop.certification.services import record_certificate, withdraw_certificate
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.core.images import make_placeholder
from shop.core.text import nfc
from shop.extensions import db
from shop.inventory.models import CounterSale, StockMovement
from shop.producers.models import Producer
from shop.producers.queries import get_by_slug, producer_of
from shop.producers.services import (
    add_document,
    add_producer_image,
    attach_member,
    create_producer,
    get_by_registration_no,
)
from shop.sales_points.models import PointManager, PointProduct, SalesPoint
from shop.sales_points.queries import get_by_code
from shop.sales_points.services import assign_manager, carry_product, create_point
from shop.seeding.demo_audit_criteria import seed_criteria
from shop.seeding.demo_audits import seed_demo_audits
from shop.seeding.demo_certificates import seed_demo_certificates
from shop.seeding.demo_stock import seed_demo_stock
from shop.seeding.demo_targets import seed_demo_targets
from shop.seeding.demo_trace import seed_demo_trace
from shop.seeding.files import load_seed_file, parse_date, parse_time, ward_code

# Placeholder pictures: small enough to keep `flask seed demo` fast, large enough for the 320/640 renditions.
PRODUCT_PICTURE_SIZE = (640, 480)
LOGO_SIZE = (320, 320)


class DemoRefused(DomainError):
    code = "demo_refused"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    full_name: str
    manages: str


@dataclass
class DemoReport:
    created: Counter = field(default_factory=Counter)
    accounts: list[DemoAccount] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)


def seed_demo(*, images: bool = True) -> DemoReport:
    """Load the demo data set. Refused in production: the demo accounts share a published password."""
    if current_app.config["SHOP_ENV"] == "production":
        raise DemoRefused("The demo data cannot be loaded when SHOP_ENV=production: its accounts share the "
                          "public password 'ocop-demo'. Use `flask users create` for real accounts.")
    report = DemoReport()
    points = _seed_points(report)
    producers = _seed_producers(report, images)
    products = _seed_products(report, producers, images)
    _seed_assortments(report, points, products)
    _seed_accounts(report, points, producers)
    seed_demo_certificates(report)
    seed_demo_stock(report, points)
    seed_demo_trace(report)
    seed_criteria(report)
    seed_demo_targets(report)
    seed_demo_audits(report)
    report.totals = database_totals()
    return report


def _seed_points(report: DemoReport) -> dict[str, SalesPoint]:
    points = {}
    for item in load_seed_file("points.json"):
        point = get_by_code(item["code"])
        if point is None:
            point = create_point(
                code=item["code"], name=item["name"], tier=item["tier"], status=item["status"],
                province_code=item["province_code"], ward_code=ward_code(item["province_code"], item["ward"]),
                former_district=item["former_district"], street=item["street"], latitude=item["latitude"],
                longitude=item["longitude"], opens_at=parse_time(item["opens_at"]),
                closes_at=parse_time(item["closes_at"]), phone=item["phone"],
                location_types=item.get("location_types", []), floor_area_m2=item.get("floor_area_m2"),
                operator_name=item.get("operator_name"), operator_kind=item.get("operator_kind"),
                operator_registration_no=item.get("operator_registration_no"),
                opened_on=date.fromisoformat(item["opened_on"]) if item.get("opened_on") else None)
            report.created["points"] += 1
        points[item["code"]] = point
    return points


def _seed_producers(report: DemoReport, images: bool) -> dict[str, Producer]:
    producers = {}
    for item in load_seed_file("producers.json"):
        producer = get_by_registration_no(item["registration_no"]) or get_by_slug(item["slug"])
        if producer is None:
            producer = create_producer(
                name=item["name"], legal_form=item["legal_form"], registration_no=item["registration_no"],
                province_code=item["province_code"], ward_code=ward_code(item["province_code"], item["ward"]),
                former_district=item["former_district"], street=item["street"], story_md=item["story_md"],
                phone=item["phone"], email=item["email"], website=item["website"])
            report.created["producers"] += 1
            # A producer and its documents and logo are created in the same run, so they exist together.
            for document in item["documents"]:
                add_document(producer, kind=document["kind"], number=document["number"],
                             issued_on=parse_date(document["issued_on"]),
                             valid_until=parse_date(document["valid_until"]), issuer=document["issuer"])
                report.created["documents"] += 1
            if images:
                add_producer_image(producer, BytesIO(make_placeholder(producer.name, LOGO_SIZE)),
                                   alt=f"Logo {producer.name}", is_logo=True)
                report.created["images"] += 1
        producers[item["slug"]] = producer
    return producers


def _seed_products(report: DemoReport, producers: dict[str, Producer], images: bool) -> dict[str, Product]:
    decisions = {d["key"]: d for d in load_seed_file("decisions.json")["recognition"]}
    withdrawals = {d["key"]: d for d in load_seed_file("decisions.json")["withdrawal"]}
    products = {}
    for item in load_seed_file("products.json"):
        producer = producers[item["producer"]]
        product = db.session.scalar(sa.select(Product).where(
            Product.producer_id == producer.id,
            sa.or_(Product.slug == item["slug"], Product.name == nfc(item["name"]))))
        if product is None:
            product = create_product(
                producer, publish=item["status"] == ProductStatus.PUBLISHED.value, name=item["name"],
                group_code=item["group"], subgroup_code=item["subgroup"], description=item["description"],
                story_md=item["story_md"], price_vnd=item["price_vnd"], unit=item["unit"], gtin=item["gtin"],
                is_alcohol=item["is_alcohol"])
            report.created["products"] += 1
            if images:
                add_product_image(product, BytesIO(make_placeholder(product.name, PRODUCT_PICTURE_SIZE)),
                                  alt=f"Ảnh minh họa: {product.name}")
                report.created["images"] += 1
        # In decision order, so that a re-rating supersedes the earlier certificate as the service decides.
        for entry in sorted(item["certificates"], key=lambda c: decisions[c["decision"]]["date"]):
            decision = decisions[entry["decision"]]
            certificate = db.session.scalar(sa.select(Certificate).where(
                Certificate.product_id == product.id, Certificate.decision_no == decision["decision_no"]))
            if certificate is None:
                certificate = record_certificate(
                    product, stars=entry["stars"], score=entry["score"], level=decision["level"],
                    decision_no=decision["decision_no"], decision_date=parse_date(decision["date"]))
                report.created["certificates"] += 1
            if entry.get("withdrawn_by") and certificate.withdrawn_on is None:
                withdrawal = withdrawals[entry["withdrawn_by"]]
                withdraw_certificate(certificate, decision_no=withdrawal["decision_no"],
                                     reason=withdrawal["reason"], on=parse_date(withdrawal["date"]))
                report.created["withdrawals"] += 1
        products[item["slug"]] = product
    return products


def _seed_assortments(report: DemoReport, points: dict[str, SalesPoint],
                      products: dict[str, Product]) -> None:
    """Points carry only published products that are OCOP-certified on the day of seeding."""
    certified = set(db.session.scalars(sa.select(certified_stars_subquery(today()).c.product_id)))
    for item in load_seed_file("points.json"):
        rule, point = item["carries"], points[item["code"]]
        if not rule:
            continue
        for slug, product in products.items():
            if product.id not in certified or not product.is_published:
                continue
            if not (rule.get("all") or product.producer.former_district in rule.get("districts", ())
                    or slug in rule.get("products", ())):
                continue
            if db.session.get(PointProduct, (point.id, product.id)) is None:
                carry_product(point, product)
                report.created["assortment"] += 1


def _seed_accounts(report: DemoReport, points: dict[str, SalesPoint], producers: dict[str, Producer]) -> None:
    password = current_app.config["DEMO_PASSWORD"]
    for item in load_seed_file("accounts.json"):
        user = get_user_by_email(item["email"])
        if user is None:
            user = create_user(item["email"], password, role=item["role"], full_name=item["full_name"])
            report.created["users"] += 1
        manages = []
        if item.get("producer"):
            producer = producers[item["producer"]]
            if producer_of(user) is not producer:
                attach_member(producer, user)
            manages.append(producer.name)
        for code in item.get("points", ()):
            point = points[code]
            if db.session.get(PointManager, (user.id, point.id)) is None:
                assign_manager(point, user)
            manages.append(f"{point.code} {point.name}")
        report.accounts.append(DemoAccount(user.email, user.role.value, user.full_name, "; ".join(manages)))


def database_totals() -> dict[str, int]:
    def count(model) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))

    return {"producers": count(Producer), "products": count(Product), "certificates": count(Certificate),
            "points": count(SalesPoint), "assortment": count(PointProduct), "users": count(User),
            "stock movements": count(StockMovement), "counter sales": count(CounterSale)}
