"""Engine settings per backend: SQLite gets foreign keys, WAL and a busy timeout; PostgreSQL is left alone."""
import sqlalchemy as sa
from flask import Flask


def init_engine_events(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.pop("pool_pre_ping", None)
        connect_args = options.setdefault("connect_args", {})
        connect_args.setdefault("timeout", 30)


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # Only SQLite connections have this module name; others are untouched.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
