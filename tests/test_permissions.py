"""Who may reach which route, read from the URL map so that no route escapes the check.

The walk groups the routes by URL prefix (AREAS): every rule under a back-office root (/manage, /department,
/admin) must fall in an area of the table, or the first test fails, so a new area cannot slip in unguarded.
Each route is sent every method it accepts, the unsafe ones with a valid CSRF token (so that the guard itself,
not CSRF, must refuse): guests are sent to the login page, roles outside the area get 403.

Then, over the demo data (seeded once for the module), the owners' scope with real ids: a point manager
against another point's routes (403) and against that point's objects through their own point's URLs and forms
(404), a producer against another producer's products, lots and journal (404), a customer against another
customer's orders (404). Nothing changes in the database, and the owners reach the same URLs (200): the ids
are real."""
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from shop import create_app
from shop.accounts.models import Role
from shop.extensions import db
from shop.inventory.models import StockLevel
from shop.orders.models import Order
from shop.traceability.models import Lot
from tests.conftest import TEST_DATABASE_URL, _base_config, _empty_all_tables, csrf_token, login
from tests.factories import make_user

# Under pytest-xdist (make test: --dist loadgroup) one worker runs the module, so the demo is seeded once.
pytestmark = [pytest.mark.xdist_group("permissions")] if os.environ.get("PYTEST_XDIST_WORKER") else []


@dataclass(frozen=True)
class Area:
    prefix: str
    admits: frozenset[Role]  # for every method (admins are admitted everywhere)
    reads: frozenset[Role] = frozenset()  # for GET only
    at_least: int = 1  # rules the walk must find under the prefix (guards the walk itself)


# Who may enter which back-office area; the longest matching prefix decides.
AREAS = (
    Area("/manage/points", frozenset({Role.POINT_MANAGER}), reads=frozenset({Role.TRADE_OFFICER}),
         at_least=36),
    Area("/manage/producer", frozenset({Role.PRODUCER}), at_least=8),
    Area("/manage/catalog", frozenset({Role.PRODUCER}), at_least=4),
    Area("/department", frozenset({Role.TRADE_OFFICER}), at_least=45),
)
# Every rule under these roots must fall in an area of AREAS. There is no /admin route yet: the first one
# fails the walk until its area is written down.
BACK_OFFICE = ("/manage", "/department", "/admin")
# A back-office rule outside every area: the first test fails, and the others expect it to refuse every role.
UNLISTED = Area("(no area)", frozenset())
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
NOT_SENT = frozenset({"HEAD", "OPTIONS"})
ROLES = [role for role in Role if role != Role.ADMIN]

PASSWORD = "ocop-demo"  # DEMO_PASSWORD; the accounts made here use it too
ACCOUNTS = {Role.CUSTOMER: "customer@demo.ocop.vn", Role.PRODUCER: "producer@demo.ocop.vn",
            Role.POINT_MANAGER: "xuanloc@demo.ocop.vn", Role.TRADE_OFFICER: "officer@demo.ocop.vn"}
# The victims are the centre's manager, the demo producer account and a second customer; the Xuân Lộc manager,
# an account of a second producer and the demo customer try to reach their objects.
VICTIM_POINT, ATTACKER_POINT, UNKNOWN_POINT = "DN-TT-01", "DN-XL-01", "DN-XX-99"
VICTIM_MANAGER, ATTACKER_MANAGER = "centre@demo.ocop.vn", "xuanloc@demo.ocop.vn"
VICTIM_PRODUCER, ATTACKER_PRODUCER = "producer@demo.ocop.vn", "rival-producer@example.vn"
RIVAL_PRODUCER_SLUG = "cong-ty-tnhh-ca-phe-xuan-duong"
VICTIM_CUSTOMER, ATTACKER_CUSTOMER = "other-customer@example.vn", "customer@demo.ocop.vn"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# ------------------------------------------------------------------------------------------------- the walk

def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def area_of(path: str) -> Area:
    matching = [area for area in AREAS if _under(path, area.prefix)]
    return max(matching, key=lambda area: len(area.prefix)) if matching else UNLISTED


def methods_of(rule) -> list[str]:
    return sorted(rule.methods - NOT_SENT)


def walk(app) -> list[tuple[object, Area]]:
    """Every back-office rule of the URL map with its area."""
    rules = [rule for rule in app.url_map.iter_rules()
             if any(_under(rule.rule, root) for root in BACK_OFFICE)]
    return [(rule, area_of(rule.rule)) for rule in sorted(rules, key=lambda rule: rule.rule)]


# What each URL argument names, by the path segment before it: the key of an object of the demo world. A route
# whose argument is in neither table fails the object tests: teach them what the new argument names.
OBJECTS = {("orders", "number"): "order", ("sales", "number"): "sale", ("transfers", "number"): "transfer",
           ("audits", "audit_id"): "audit", ("evidence", "evidence_id"): "evidence",
           ("products", "slug"): "product", ("images", "image_id"): "image", ("lots", "lot_id"): "lot",
           ("attachments", "attachment_id"): "attachment"}
PLAIN = {"what": "receipts", "fmt": "csv"}  # arguments that name no object


def object_key(rule, arg: str) -> str | None:
    match = re.search(r"([\w-]+)/<(?:[^<>:]+:)?" + re.escape(arg) + ">", rule.rule)
    return OBJECTS.get((match.group(1), arg)) if match else None


def real_url(rule, objects: dict, **values) -> str:
    """The rule's URL naming the objects of `objects` (keys of OBJECTS); fails on one it cannot fill."""
    for arg in rule.arguments - values.keys():
        key = object_key(rule, arg)
        if key is not None:
            assert key in objects, f"{rule.rule}: no object '{key}' to name in <{arg}>"
            values[arg] = objects[key]
        else:
            assert arg in PLAIN, f"{rule.rule}: what does <{arg}> name? Add it to OBJECTS or PLAIN"
            values[arg] = PLAIN[arg]
    return rule.build(values, append_unknown=False)[1]


def sample_url(rule) -> str:
    """Any URL of the rule (the area guards refuse before a view reads its arguments)."""
    values = {}
    for arg in rule.arguments:
        choices = getattr(rule._converters.get(arg), "items", None)
        values[arg] = (min(choices) if choices else VICTIM_POINT if arg == "code" else 1 if "id" in arg
                       else PLAIN.get(arg, "x"))
    return rule.build(values, append_unknown=False)[1]


def send(client, method: str, url: str, token: str):
    if method in SAFE:
        return client.open(url, method=method)
    return client.open(url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})


def answers(client, requests, token: str) -> list[tuple[str, str, int]]:
    results = []
    for method, url in requests:
        response = send(client, method, url, token)
        response.close()  # files are streamed
        results.append((method, url, response.status_code))
    return results


def assert_every(results, status: int, who: str = "") -> None:
    wrong = [f"{method} {url} → {got}" for method, url, got in results if got != status]
    assert not wrong, f"{who} expected {status} for all {len(results)} requests, not for: {wrong}"


# ---------------------------------------------------------------------------- the demo, once for the module

@pytest.fixture(scope="module")
def demo(tmp_path_factory, postgres_schema):
    """The demo data set (in a SQLite file, or the PostgreSQL test database) with what it lacks here: a
    second customer with orders at the centre, a transfer and an evidence file of the centre only, a photo of
    a product of the demo producer, an account of a second producer. Emptied after the module."""
    base = tmp_path_factory.mktemp("permissions")
    app = create_app({**_base_config(base), "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or
                      f"sqlite:///{base}/demo.sqlite", "WTF_CSRF_ENABLED": True, "SEARCH_ENABLED": False,
                      "RATELIMIT_ENABLED": False})
    try:
        with app.app_context():
            if not TEST_DATABASE_URL:
                db.create_all()
            from shop.seeding import seed_demo

            seed_demo(images=False)
            app.extensions["permission_objects"] = _objects_of_other_owners(app)
            db.session.commit()
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            if TEST_DATABASE_URL:
                _empty_all_tables()
            db.engine.dispose()


def _objects_of_other_owners(app) -> dict[str, dict]:
    from shop.accounts.services import get_user_by_email
    from shop.audit.audits.evidence import add_evidence
    from shop.audit.models import Audit
    from shop.catalog.models import Product
    from shop.catalog.services import add_product_image
    from shop.core.clock import today
    from shop.core.images import make_placeholder
    from shop.inventory.models import CounterSale
    from shop.inventory.services import create_transfer
    from shop.orders.models import OrderPaymentMethod
    from shop.orders.services import Contact, create_order
    from shop.producers.queries import get_by_slug, producer_of
    from shop.producers.services import attach_member
    from shop.sales_points.models import PointProduct
    from shop.sales_points.queries import get_by_code
    from shop.traceability.models import TraceAttachment, TraceEvent

    centre, centre_manager = get_by_code(VICTIM_POINT), get_user_by_email(VICTIM_MANAGER)
    level = db.session.scalars(
        sa.select(StockLevel).join(Lot, Lot.id == StockLevel.lot_id)
        .join(PointProduct, sa.and_(PointProduct.point_id == StockLevel.point_id,
                                    PointProduct.product_id == StockLevel.product_id))
        .where(StockLevel.point_id == centre.id, StockLevel.on_hand - StockLevel.reserved >= 4,
               Lot.recalled_at.is_(None), Lot.expiry_date >= today())
        .order_by(StockLevel.product_id, StockLevel.lot_id)).first()
    customer = make_user(Role.CUSTOMER, email=VICTIM_CUSTOMER, password=PASSWORD)
    contact = Contact(name="Phạm Thị Mai", phone="+84912345679", email=VICTIM_CUSTOMER)
    card_order, pickup_order = (
        create_order(centre, [(level.product, 1)], fulfilment="pickup", payment_method=method,
                     contact=contact, customer=customer)
        for method in (OrderPaymentMethod.CARD, OrderPaymentMethod.PAY_AT_PICKUP))
    transfer = create_transfer(centre, get_by_code("DN-BH-01"), [(level.product, level.lot, 1)],
                               actor=centre_manager)
    evidence = add_evidence(centre, "L-01", FileStorage(BytesIO(PDF), filename="mat-bang.pdf"),
                            "Hợp đồng thuê mặt bằng", centre_manager, upload_dir=app.config["UPLOAD_DIR"],
                            submitted_by_manager=True)
    sale = db.session.scalars(sa.select(CounterSale.number).where(CounterSale.point_id == centre.id)
                              .order_by(CounterSale.id)).first()
    audit = db.session.scalars(sa.select(Audit.id).where(Audit.point_id == centre.id)).first()

    producer = producer_of(get_user_by_email(VICTIM_PRODUCER))
    attachment = db.session.scalars(
        sa.select(TraceAttachment).join(TraceEvent, TraceEvent.id == TraceAttachment.event_id)
        .join(Lot, Lot.id == TraceEvent.lot_id).join(Product, Product.id == Lot.product_id)
        .where(Product.producer_id == producer.id).order_by(TraceAttachment.id)).first()
    lot = db.session.get(Lot, attachment.event.lot_id)
    image = add_product_image(lot.product, BytesIO(make_placeholder(lot.product.name, (320, 240))), alt="Ảnh")
    attach_member(get_by_slug(RIVAL_PRODUCER_SLUG), make_user(Role.PRODUCER, email=ATTACKER_PRODUCER,
                                                              password=PASSWORD))
    db.session.flush()
    return {"point": {"order": pickup_order.number, "sale": sale, "transfer": transfer.number, "audit": audit,
                      "evidence": evidence.id, "level": level.id},
            "producer": {"product": lot.product.slug, "image": image.id, "lot": lot.id,
                         "attachment": attachment.id},
            "customer": {"card": card_order.number, "pickup": pickup_order.number}}


@pytest.fixture
def objects(demo):
    return demo.extensions["permission_objects"]


def signed_in(app, email: str):
    """A client logged in as `email`, and a CSRF token of its session."""
    client = app.test_client()
    assert login(client, email, PASSWORD).status_code == 302, f"{email} could not log in"
    return client, csrf_token(client, "/")


def fingerprint(app) -> dict:
    """The row count of every table, the stock figures, the orders' statuses and the recalled lots."""
    with app.app_context():
        state = {table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
                 for table in db.metadata.sorted_tables}
        state["stock"] = tuple(db.session.execute(sa.select(sa.func.sum(StockLevel.on_hand),
                                                            sa.func.sum(StockLevel.reserved))).one())
        state["orders"] = sorted(db.session.execute(sa.select(Order.number, Order.status)).all())
        state["recalled"] = db.session.scalar(sa.select(sa.func.count()).where(Lot.recalled_at.is_not(None)))
        return state


@contextmanager
def nothing_changes(app):
    before = fingerprint(app)
    yield
    after = fingerprint(app)
    assert after == before, {key: (before[key], after[key]) for key in before if before[key] != after[key]}


# ---------------------------------------------------------------------------------------------- every route

def test_every_back_office_route_is_in_an_area(demo):
    stray = [rule.rule for rule, area in walk(demo) if area is UNLISTED]
    assert not stray, f"routes under {BACK_OFFICE} in no area of AREAS (say who may reach them): {stray}"


def test_the_walk_finds_every_area_and_every_method(demo):
    for area in AREAS:
        rules = [rule for rule, of in walk(demo) if of == area]
        assert len(rules) >= area.at_least, (area.prefix, len(rules))
        assert {"GET", "POST"} <= {method for rule in rules for method in methods_of(rule)}, area.prefix
    assert sum(len(methods_of(rule)) for rule, _ in walk(demo)) >= 110


def test_guests_are_sent_to_login(demo):
    client = demo.test_client()
    token = csrf_token(client, "/account/login")
    wrong = []
    for rule, _ in walk(demo):
        for method in methods_of(rule):
            url = sample_url(rule)
            response = send(client, method, url, token)
            location = urlsplit(response.headers.get("Location", ""))
            to_login = location.path == "/account/login" and "next=" in location.query
            if response.status_code != 302 or not to_login:
                wrong.append(f"{method} {url} → {response.status_code} {response.headers.get('Location')}")
    assert not wrong


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_roles_outside_an_area_are_refused(demo, role):
    client, token = signed_in(demo, ACCOUNTS[role])
    requests = [(method, sample_url(rule)) for rule, area in walk(demo) for method in methods_of(rule)
                if role not in area.admits and (role not in area.reads or method not in SAFE)]
    assert len(requests) >= 30, f"the walk sent {role} almost nothing"
    with nothing_changes(demo):
        assert_every(answers(client, requests, token), 403, role)


# --------------------------------------------------------------------------------------------- sales points

def point_rules(app) -> list:
    """The routes of one point's back office (their URL names the point's code)."""
    return [rule for rule, area in walk(app) if area.prefix == "/manage/points" and "code" in rule.arguments]


def with_objects(app) -> list:
    return [rule for rule in point_rules(app) if rule.arguments - {"code"} - PLAIN.keys()]


def test_a_manager_is_refused_every_route_of_another_point_with_its_real_ids(demo, objects):
    rules = point_rules(demo)
    assert len(rules) >= 36 and len(with_objects(demo)) >= 13
    client, token = signed_in(demo, ATTACKER_MANAGER)
    requests = [(method, real_url(rule, objects["point"], code=VICTIM_POINT))
                for rule in rules for method in methods_of(rule)]
    with nothing_changes(demo):
        assert_every(answers(client, requests, token), 403)


def test_a_manager_cannot_reach_another_points_objects_through_their_own_point(demo, objects):
    """The guard admits the manager to their own point's URLs: the view must look the object up there."""
    client, token = signed_in(demo, ATTACKER_MANAGER)
    requests = [(method, real_url(rule, objects["point"], code=ATTACKER_POINT))
                for rule in with_objects(demo) for method in methods_of(rule)]
    assert len(requests) >= 14
    with nothing_changes(demo):
        assert_every(answers(client, requests, token), 404)


def test_a_manager_cannot_name_another_points_stock_in_their_own_forms(demo, objects):
    """A stock level of the centre in the Xuân Lộc manager's adjustment (URL, form) or transfer line: 404."""
    client, token = signed_in(demo, ATTACKER_MANAGER)
    level, base = objects["point"]["level"], f"/manage/points/{ATTACKER_POINT}"
    form = client.get(f"{base}/transfers/new")
    assert form.status_code == 200
    to_point = re.search(r'name="to_point".*?<option value="(\d+)"', form.get_data(as_text=True), re.DOTALL)
    with nothing_changes(demo):
        assert client.get(f"{base}/adjustments/new?level={level}").status_code == 404
        assert client.post(f"{base}/adjustments/new", data={
            "csrf_token": token, "level": level, "delta": "-1", "reason": "damaged",
            "once_key": "k1"}).status_code == 404
        assert client.post(f"{base}/transfers/new", data={
            "csrf_token": token, "to_point": to_point.group(1), "level_1": level, "quantity_1": "1",
            "once_key": "k2"}).status_code == 404


def test_the_owner_and_the_officers_read_those_urls(demo, objects):
    """The same URLs answer their point's manager and a trade officer (so the ids above are real)."""
    urls = [real_url(rule, objects["point"], code=VICTIM_POINT)
            for rule in point_rules(demo) if "GET" in rule.methods]
    assert len(urls) >= 25
    for email in (VICTIM_MANAGER, ACCOUNTS[Role.TRADE_OFFICER]):
        client, token = signed_in(demo, email)
        with nothing_changes(demo):
            assert_every(answers(client, [("GET", url) for url in urls], token), 200, email)


def test_trade_officers_change_no_point(demo, objects):
    client, token = signed_in(demo, ACCOUNTS[Role.TRADE_OFFICER])
    requests = [(method, real_url(rule, objects["point"], code=code))
                for rule in point_rules(demo) for method in methods_of(rule) if method not in SAFE
                for code in (VICTIM_POINT, ATTACKER_POINT)]
    assert len(requests) >= 30
    with nothing_changes(demo):
        assert_every(answers(client, requests, token), 403)


def test_an_unknown_point_code_is_not_found(demo, objects):
    client, token = signed_in(demo, ATTACKER_MANAGER)
    requests = [(method, real_url(rule, objects["point"], code=UNKNOWN_POINT))
                for rule in point_rules(demo) for method in methods_of(rule)]
    with nothing_changes(demo):
        assert_every(answers(client, requests, token), 404)


def test_exact_stock_in_the_api_is_for_the_points_readers_only(demo):
    """The JSON API answers 401 to guests (with a Bearer challenge) and 403 to the wrong accounts."""
    url = f"/api/v1/points/{VICTIM_POINT}/stock?detail=exact"
    guest = demo.test_client().get(url)
    assert guest.status_code == 401 and guest.headers["WWW-Authenticate"].startswith("Bearer")
    for email in (ATTACKER_MANAGER, ACCOUNTS[Role.CUSTOMER], ACCOUNTS[Role.PRODUCER]):
        assert signed_in(demo, email)[0].get(url).status_code == 403, email
    for email in (VICTIM_MANAGER, ACCOUNTS[Role.TRADE_OFFICER]):
        response = signed_in(demo, email)[0].get(url)
        assert response.status_code == 200 and response.json["items"][0]["lots"], email


# ------------------------------------------------------------------------------------------------ producers

def producer_rules(app) -> list:
    """The producer portal's routes that name an object (product, photo, lot, journal attachment)."""
    return [rule for rule, area in walk(app) if Role.PRODUCER in area.admits and rule.arguments]


def test_a_producer_cannot_reach_another_producers_products_lots_and_journal(demo, objects):
    rules = producer_rules(demo)
    assert len(rules) >= 9
    client, token = signed_in(demo, ATTACKER_PRODUCER)
    requests = [(method, real_url(rule, objects["producer"]))
                for rule in rules for method in methods_of(rule)]
    with nothing_changes(demo):
        assert_every(answers(client, requests, token), 404)


def test_the_owning_producer_reads_those_urls(demo, objects):
    client, token = signed_in(demo, VICTIM_PRODUCER)
    urls = [real_url(rule, objects["producer"]) for rule in producer_rules(demo) if "GET" in rule.methods]
    assert len(urls) >= 6
    with nothing_changes(demo):
        assert_every(answers(client, [("GET", url) for url in urls], token), 200)


# ------------------------------------------------------------------------------------------------ customers

def order_rules(app) -> list:
    """The pages of one order (the customer's and the payment's): every rule under /orders/<number>."""
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/orders/<number>")]


def test_a_customer_cannot_reach_another_customers_orders(demo, objects):
    """Another customer, or a guest without the emailed key: 404 on every page of the order (pay, cancel…)."""
    rules = order_rules(demo)
    assert len(rules) >= 5
    numbers = objects["customer"].values()
    requests = [(method, real_url(rule, {"order": number}))
                for rule in rules for method in methods_of(rule) for number in numbers]
    guest = demo.test_client()
    client, token = signed_in(demo, ATTACKER_CUSTOMER)
    with nothing_changes(demo):
        assert_every(answers(client, requests, token), 404, ATTACKER_CUSTOMER)
        assert_every(answers(guest, requests, csrf_token(guest, "/account/login")), 404, "a guest")
        listed = client.get("/orders").get_data(as_text=True)
        assert not [number for number in numbers if number in listed]


def test_the_customer_reaches_their_own_orders(demo, objects):
    client, _ = signed_in(demo, VICTIM_CUSTOMER)
    listed = client.get("/orders").get_data(as_text=True)
    for number in objects["customer"].values():
        assert number in listed and client.get(f"/orders/{number}").status_code == 200
