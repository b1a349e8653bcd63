"""Configuration from the environment, as the README documents it."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from shop import create_app
from shop.config import normalise_database_url
from shop.extensions import db
from tests.conftest import PRODUCTION

ROOT = Path(__file__).resolve().parent.parent
ENV_KEYS = ("DATABASE_URL", "SECRET_KEY", "SHOP_ENV", "UPLOAD_DIR", "SEARCH_INDEX_DIR", "RATELIMIT_STORAGE_URI")


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A clean environment whose instance folder is a temporary one."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    folder = tmp_path / "instance"
    monkeypatch.setenv("INSTANCE_PATH", str(folder))
    return folder


def test_defaults_put_database_uploads_and_index_in_the_instance_folder(instance):
    app = create_app()
    with app.app_context():
        assert Path(db.engine.url.database) == instance / "shop.sqlite"
    assert Path(app.config["UPLOAD_DIR"]) == instance / "uploads"
    assert Path(app.config["SEARCH_INDEX_DIR"]) == instance / "search-index"
    assert app.config["SHOP_ENV"] == "development"


def test_database_url_and_folders_come_from_the_environment(instance, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'other.sqlite'}")
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    app = create_app()
    with app.app_context():
        assert Path(db.engine.url.database) == tmp_path / "other.sqlite"
    assert app.config["UPLOAD_DIR"] == str(tmp_path / "media")
    assert app.config["SEARCH_INDEX_DIR"] == str(tmp_path / "idx")


@pytest.mark.parametrize("given, expected", [
    ("postgres://shop:pw@db.local:5432/shop", "postgresql+psycopg://shop:pw@db.local:5432/shop"),
    ("postgresql://shop@127.0.0.1/shop", "postgresql+psycopg://shop@127.0.0.1/shop"),
    ("postgresql+psycopg://shop@127.0.0.1/shop", "postgresql+psycopg://shop@127.0.0.1/shop"),
    ("sqlite:////var/lib/shop.sqlite", "sqlite:////var/lib/shop.sqlite"),
])
def test_database_urls_are_normalised_to_the_psycopg_driver(given, expected):
    assert normalise_database_url(given) == expected


def test_a_heroku_style_postgres_url_reaches_the_engine_with_psycopg(instance, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://shop:pw@db.invalid:5432/shop")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://shop:pw@db.invalid:5432/shop"
    with app.app_context():  # the engine is built without connecting
        assert db.engine.url.drivername == "postgresql+psycopg"
        assert db.engine.url.database == "shop"


def test_secret_key_is_generated_once_into_the_instance_folder_and_reused(instance):
    first = create_app()
    key_file = instance / "secret_key"
    assert key_file.exists()
    assert first.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 32
    assert key_file.stat().st_mode & 0o077 == 0, "the key file must be private to its owner"
    second = create_app()
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_secret_key_from_the_environment_wins_and_writes_nothing(instance, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (instance / "secret_key").exists()


def test_production_refuses_to_start_without_a_secret_key(instance, monkeypatch):
    monkeypatch.setenv("SHOP_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    assert not (instance / "secret_key").exists(), "production must never fall back to a generated key"
    monkeypatch.setenv("SECRET_KEY", "a-real-production-secret")
    assert create_app(PRODUCTION).config["SHOP_ENV"] == "production"


def test_flaskenv_points_flask_at_the_app_factory(instance, tmp_path):
    values = dotenv_values(ROOT / ".flaskenv")
    assert values.get("FLASK_APP") in ("shop", "shop:create_app", "shop:create_app()")
    # `flask <command>` from the project folder finds the app through .flaskenv alone.
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", *ENV_KEYS)}
    env.update(INSTANCE_PATH=str(instance), DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite'}")
    result = subprocess.run([sys.executable, "-m", "flask", "routes"], check=False, cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "catalog.product_list" in result.stdout and "/products/<slug>" in result.stdout


def test_a_sqlite_app_does_not_leak_its_engine_options_into_the_next_app(instance, monkeypatch, tmp_path):
    # The suite (and `flask` commands in one process) build SQLite and PostgreSQL apps side by side: SQLite's
    # connect_args={"timeout": …} in a PostgreSQL engine makes psycopg refuse to connect.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'first.sqlite'}")
    sqlite_app = create_app()
    assert sqlite_app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["timeout"] > 0
    monkeypatch.setenv("DATABASE_URL", "postgresql://shop@db.invalid/shop")
    postgres_app = create_app()
    options = postgres_app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert "timeout" not in options.get("connect_args", {})
    assert options.get("pool_pre_ping") is True
