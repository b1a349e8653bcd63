"""The `flask users`, `flask seed` commands as an operator runs them: output, exit codes, what is stored."""
import sqlalchemy as sa

from shop.accounts.models import Role, User
from shop.accounts.services import authenticate, get_user_by_email
from shop.catalog.models import Product
from shop.extensions import db
from shop.producers.queries import producer_of
from shop.sales_points.models import SalesPoint
from shop.sales_points.queries import managed_by
from tests.conftest import PRODUCTION
from tests.factories import make_point, make_producer


def create_user_cmd(runner, *args: str, input: str | None = None):
    return runner.invoke(args=["users", "create", *args], input=input)


def users(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(User.email).order_by(User.email)))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- flask users create -----------------------------------------------------------------------------------

def test_users_create_makes_an_account_that_can_log_in(app, runner):
    result = create_user_cmd(runner, "Lan.Nguyen@Example.vn", "--role", "trade_officer",
                             "--password", "mat-khau-123", "--name", "Nguyễn Thị Lan")
    assert result.exit_code == 0, result.output
    assert "Created the trade_officer account lan.nguyen@example.vn" in result.output
    with app.app_context():
        user = authenticate("lan.nguyen@example.vn", "mat-khau-123")
        assert user.role == Role.TRADE_OFFICER and user.full_name == "Nguyễn Thị Lan"


def test_users_create_asks_for_the_password_when_not_given(app, runner):
    result = create_user_cmd(runner, "admin@example.vn", "--role", "admin",
                             input="a-long-secret\na-long-secret\n")
    assert result.exit_code == 0, result.output
    assert "a-long-secret" not in result.output  # typed hidden
    with app.app_context():
        assert authenticate("admin@example.vn", "a-long-secret").role == Role.ADMIN


def test_users_create_refuses_mismatched_password_confirmation(app, runner):
    result = create_user_cmd(runner, "admin@example.vn", "--role", "admin",
                             input="a-long-secret\nanother-one\n")
    assert result.exit_code != 0
    assert users(app) == []


def test_users_create_refuses_an_unknown_role(app, runner):
    result = create_user_cmd(runner, "x@example.vn", "--role", "superuser", "--password", "long-enough")
    assert result.exit_code != 0
    assert "superuser" in result.stderr and "--role" in result.stderr
    assert users(app) == []


def test_users_create_refuses_a_duplicate_email(app, runner):
    create_user_cmd(runner, "x@example.vn", "--role", "customer", "--password", "long-enough")
    result = create_user_cmd(runner, "X@example.vn ", "--role", "admin", "--password", "long-enough")
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    with app.app_context():
        assert get_user_by_email("x@example.vn").role == Role.CUSTOMER


def test_users_create_refuses_a_short_password(app, runner):
    result = create_user_cmd(runner, "x@example.vn", "--role", "customer", "--password", "short")
    assert result.exit_code == 1
    assert "at least 8 characters" in result.stderr
    assert users(app) == []


def test_users_create_attaches_producer_and_points(app, runner):
    with app.app_context():
        producer = make_producer(name="HTX Bưởi Tân Triều")
        make_point(code="DN-XL-01")
        make_point(code="DN-LK-01")
        slug = producer.slug
        db.session.commit()
    result = create_user_cmd(runner, "htx@example.vn", "--role", "producer", "--producer", slug,
                             "--password", "long-enough")
    assert result.exit_code == 0, result.output
    result = create_user_cmd(runner, "manager@example.vn", "--role", "point_manager",
                             "--point", "dn-xl-01", "--point", "DN-LK-01", "--password", "long-enough")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert producer_of(get_user_by_email("htx@example.vn")).slug == slug
        managed = managed_by(get_user_by_email("manager@example.vn"))
        assert [p.code for p in managed] == ["DN-LK-01", "DN-XL-01"]


def test_users_create_refuses_an_unknown_point_or_producer(app, runner):
    with app.app_context():
        make_point(code="DN-XL-01")
        db.session.commit()
    result = create_user_cmd(runner, "m@example.vn", "--role", "point_manager", "--point", "DN-XL-01",
                             "--point", "DN-ZZ-99", "--password", "long-enough")
    assert result.exit_code == 1
    assert "DN-ZZ-99" in result.stderr
    result = create_user_cmd(runner, "p@example.vn", "--role", "producer", "--producer", "no-such",
                             "--password", "long-enough")
    assert result.exit_code == 1
    assert "no-such" in result.stderr
    assert users(app) == []


def test_users_create_refuses_a_point_for_a_role_that_manages_none(app, runner):
    with app.app_context():
        make_point(code="DN-XL-01")
        db.session.commit()
    result = create_user_cmd(runner, "c@example.vn", "--role", "customer", "--point", "DN-XL-01",
                             "--password", "long-enough")
    assert result.exit_code != 0
    assert "--point is only for" in result.stderr
    assert users(app) == []


# --- flask seed -------------------------------------------------------------------------------------------

def test_seed_demo_loads_once_and_prints_the_accounts(app, runner):
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    for email, role in [("admin@demo.ocop.vn", "admin"), ("centre@demo.ocop.vn", "point_manager"),
                        ("xuanloc@demo.ocop.vn", "point_manager"), ("producer@demo.ocop.vn", "producer"),
                        ("officer@demo.ocop.vn", "trade_officer"), ("customer@demo.ocop.vn", "customer")]:
        line = next(line for line in result.output.splitlines() if email in line)
        assert role in line
    assert "DN-TT-01" in result.output and "ocop-demo" in result.output
    products, points = count(app, Product), count(app, SalesPoint)
    assert products >= 80 and points == 12

    again = runner.invoke(args=["seed", "demo"])
    assert again.exit_code == 0, again.output
    assert "created nothing" in again.output
    assert (count(app, Product), count(app, SalesPoint), len(users(app))) == (products, points, 6)


def test_seed_demo_is_refused_in_production(make_app):
    app = make_app(**PRODUCTION)
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 1
    assert "SHOP_ENV=production" in result.stderr
    assert users(app) == [] and count(app, Product) == 0


def test_seed_scale_loads_the_requested_counts_then_refuses_a_second_load(app, runner):
    result = runner.invoke(args=["seed", "scale", "--products", "1001", "--producers", "60", "--points", "3"])
    assert result.exit_code == 0, result.output
    assert "1001 products" in result.output
    assert (count(app, Product), count(app, SalesPoint)) == (1001, 3)

    again = runner.invoke(args=["seed", "scale", "--products", "10", "--producers", "5", "--points", "1"])
    assert again.exit_code == 1
    assert "already has 1001 products" in again.stderr
    assert count(app, Product) == 1001


def test_seed_scale_rejects_bad_numbers(app, runner):
    result = runner.invoke(args=["seed", "scale", "--products", "-5"])
    assert result.exit_code != 0
    assert "--products" in result.stderr
    assert count(app, Product) == 0
