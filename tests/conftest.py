"""Test fixtures. Each test gets its own app. On SQLite (default) each test has its own in-memory database
built with create_all; with TEST_DATABASE_URL (PostgreSQL in CI) the schema is built once by the Alembic
migrations and every table is emptied after each test. Under pytest-xdist (`make test`) each worker has its own
PostgreSQL database (see _database_of_this_worker)."""
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from shop import create_app
from shop.extensions import db


def _database_of_this_worker(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own beside the one given (`test` →
    `test_gw0`, `test_gw1`…), created when missing, so that workers never empty each other's tables. The
    environment is updated too: the live servers and the modules that read TEST_DATABASE_URL see it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    import psycopg

    given = sa.engine.make_url(url)
    if given.database.endswith(f"_{worker}"):
        return url
    own = given.set(database=f"{given.database}_{worker}")
    admin_dsn = given.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (own.database,)).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{own.database}"')
    os.environ["TEST_DATABASE_URL"] = own.render_as_string(hide_password=False)
    return os.environ["TEST_DATABASE_URL"]


TEST_DATABASE_URL = _database_of_this_worker(os.environ.get("TEST_DATABASE_URL"))
TRANSLATIONS = Path(__file__).resolve().parent.parent / "shop" / "translations"


def compile_catalogues() -> None:
    """Build each .mo from its .po when missing or older (what `make` does), so pytest alone works too."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        partial = mo_path.with_suffix(f".mo.{os.getpid()}")
        with partial.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        partial.replace(mo_path)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues():
    compile_catalogues()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """The browser tests serve their shop from a SQLite file whatever the database under test, so the PostgreSQL
    run leaves them out; under pytest-xdist they share one worker (--dist loadgroup), which seeds their shop once.
    Runs before xdist's own hook, which reads the group."""
    if TEST_DATABASE_URL:
        browser = [item for item in items if item.get_closest_marker("browser")]
        if browser:
            config.hook.pytest_deselected(items=browser)
            items[:] = [item for item in items if not item.get_closest_marker("browser")]
        return
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))


# What a production app needs besides SHOP_ENV (shop.config.apply_production_rules refuses the development
# defaults): make_app(**PRODUCTION).
PRODUCTION = {"SHOP_ENV": "production", "STRIPE_SECRET_KEY": "sk_live_for_tests",
              "STRIPE_WEBHOOK_SECRET": "whsec_for_tests", "PUBLIC_URL": "https://ocop.example.vn"}


def _base_config(tmp_path) -> dict:
    return {
        "TESTING": True,
        "SHOP_ENV": "testing",
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or "sqlite://",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "SEARCH_INDEX_DIR": str(tmp_path / "search-index"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_IN_BACKGROUND": False,  # emails are written before the request returns: tests read them at once
    }


@pytest.fixture(scope="session")
def postgres_schema(tmp_path_factory):
    """PostgreSQL: an empty schema upgraded to head once for the whole run."""
    if not TEST_DATABASE_URL:
        yield None
        return
    from flask_migrate import upgrade

    app = create_app({**_base_config(tmp_path_factory.mktemp("pg")), "SEARCH_ENABLED": False})
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    yield TEST_DATABASE_URL


def _empty_all_tables() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def make_app(tmp_path, postgres_schema):
    """Build an app with extra configuration; the database is ready and emptied afterwards."""
    apps = []

    def build(**overrides):
        app = create_app({**_base_config(tmp_path), **overrides})
        with app.app_context():
            if postgres_schema is None and app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://":
                db.create_all()
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            if postgres_schema is not None:
                db.session.remove()
                _empty_all_tables()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def app_ctx(app):
    """For service tests: a pushed app context. Never make client requests inside it."""
    with app.app_context():
        yield app


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str = "/account/login") -> str:
    html = client.get(url).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token in {url}"
    return match.group(1)


def post_form(client, url: str, data: dict, *, form_url: str | None = None, **kwargs):
    """Submit a form the way a browser does: fetch the page for its CSRF token, then post."""
    token = csrf_token(client, form_url or url)
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


def login(client, email: str, password: str = "password123"):
    return post_form(client, "/account/login", {"email": email, "password": password})


@pytest.fixture
def shared_app(make_app, tmp_path):
    """An app whose database other processes and threads can reach too: a SQLite file (or the PostgreSQL test
    database)."""
    if TEST_DATABASE_URL:
        return make_app()
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/c.sqlite")
    with app.app_context():
        db.create_all()
    return app


def at_run_time(values: dict) -> dict:
    """Parameters that depend on today's date are given as callables and computed when the test runs, not when
    pytest collects it: a run that crosses midnight in Vietnam (17:00 UTC) would otherwise test yesterday's
    "tomorrow"."""
    return {key: value() if callable(value) else value for key, value in values.items()}
