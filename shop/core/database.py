"""Engine settings per backend: SQLite gets foreign keys, WAL and a busy timeout; PostgreSQL is left alone."""
import sqlalchemy as sa
import sqlalchemy.orm
from flask import Flask


def init_engine_events(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    # A fresh dict per app: the defaults live on a class shared by every app in the process.
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        options.pop("pool_pre_ping", None)
        options["connect_args"] = {"timeout": 30, **options.get("connect_args", {})}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


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


def after_commit(callback) -> None:
    """Run `callback()` once the current transaction commits; forget it on rollback. For side effects that
    must not happen for changes that end up rolled back (deleting files, sending mail)."""
    from shop.extensions import db

    session = db.session()
    session.info.setdefault("after_commit_callbacks", []).append(callback)


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _run_after_commit(session):
    if session.in_nested_transaction():  # SQLAlchemy also says "after_commit" when a SAVEPOINT is released
        return
    for callback in session.info.pop("after_commit_callbacks", []):
        callback()


@sa.event.listens_for(sa.orm.Session, "after_soft_rollback")
def _forget_after_rollback(session, previous_transaction):
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop("after_commit_callbacks", None)


def open_transaction() -> None:
    """Make sure a real transaction is open before SAVEPOINTs. SQLite's Python driver opens one only before a
    write, and a SAVEPOINT taken outside a transaction is committed by its RELEASE, so a later rollback would
    not undo it. On SQLite this takes the write lock at once (BEGIN IMMEDIATE, waiting up to the busy timeout):
    the caller is about to write anyway, and it avoids failing later when another writer got in first."""
    from shop.extensions import db

    connection = db.session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
