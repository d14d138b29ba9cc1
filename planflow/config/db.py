"""The database engine and sessions: SQLite by default, PostgreSQL (psycopg 3) unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

from planflow.config.files import private_dir, touch_private
from planflow.config.secrets import register_secret
from planflow.config.settings import get_settings


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - driver hook
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """One engine per URL and process; the default URL comes from the settings."""
    settings = get_settings()
    url = url or settings.resolved_database_url
    parsed = make_url(url)
    register_secret(parsed.password)
    # parameters carry Zalo tokens and personal data: never in logs, echo or error text
    kwargs: dict = {"echo": settings.echo_sql, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            database = Path(parsed.database)
            private_dir(database.parent, tighten=database.parent == settings.data_dir)
            touch_private(database)  # SQLite gives its -wal and -shm files the same mode
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def is_sqlite(engine: Engine) -> bool:
    """True when the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def create_schema(engine: Engine | None = None) -> None:
    """Create every planflow table that does not exist yet."""
    import planflow.models  # noqa: F401  (registers the tables)

    SQLModel.metadata.create_all(engine or get_engine())


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back on an exception."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
