"""Every table comes from the Alembic migrations: upgrading an empty database must give exactly the models'
schema, on SQLite and on PostgreSQL (when TEST_DATABASE_URL is set), and the history must go down and up."""
import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from shop import create_app
from shop.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture
def sqlite_url(tmp_path):
    # A file, not :memory:, so every connection Alembic opens sees the same database.
    return f"sqlite:///{tmp_path / 'migrations.sqlite'}"


@pytest.fixture
def postgres_url():
    """A scratch database beside the test one: the suite's own `test` database is upgraded by conftest."""
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set (CI sets it to a PostgreSQL database)")
    import psycopg

    url = sa.engine.make_url(TEST_DATABASE_URL)
    scratch = f"{url.database}_migrations"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{scratch}"')
    yield url.set(database=scratch).render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def migration_app(request, tmp_path):
    url = request.getfixturevalue(f"{request.param}_url")
    app = create_app({"TESTING": True, "SHOP_ENV": "testing", "SECRET_KEY": "test", "SEARCH_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(tmp_path / "uploads"),
                      "SEARCH_INDEX_DIR": str(tmp_path / "index")})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def schema_differences(app) -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"})
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_upgrading_an_empty_database_gives_exactly_the_models_schema(migration_app):
    assert table_names() == set(), "the database must start empty"
    assert len(db.metadata.tables) >= 10, "the models were not imported: the comparison would be vacuous"
    upgrade()
    assert set(db.metadata.tables) <= table_names()
    assert schema_differences(migration_app) == []


def test_the_history_goes_down_to_base_and_up_again(migration_app):
    upgrade()
    downgrade(revision="base")
    assert table_names() <= {"alembic_version"}, "downgrade to base must drop every table"
    upgrade()
    assert schema_differences(migration_app) == []
    with db.engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    assert len(heads) == 1, f"the migration history must have a single head, found {heads}"
