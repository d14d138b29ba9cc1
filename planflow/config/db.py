"""The database engine and sessions: SQLite by default, PostgreSQL (psycopg 3) unchanged."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import ColumnDefault, Table, event, insert, inspect, literal, null, text
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, Engine, Result, make_url
from sqlmodel import Session, create_engine

from planflow.config.files import private_dir, touch_private
from planflow.config.secrets import register_secret
from planflow.config.settings import get_settings

T = TypeVar("T")


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


# Batch sizes, from the backends' bound-parameter limits (SQLite: 999 a statement before 3.32,
# 32,766 since; PostgreSQL: 65,535), chosen here once for every batched statement:
BATCH = 900  # ids per IN (…) list: under SQLite's old 999-parameter cap, cheap on PostgreSQL
VALUES_ROWS = 500  # rows per multi-row INSERT … VALUES: rows × columns under 32,766
INSERT_ROWS = 2000  # rows per executemany INSERT: one parameter set a row, so no cap applies


def batched(items: Sequence[T], size: int = BATCH) -> Iterator[list[T]]:
    """``items`` in consecutive lists of at most ``size`` (the one batching rule for SQL)."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) with the driver's own ``executemany``: the
    statement compiled once, each value through its column type's bind processor, the other
    columns' defaults computed once for all the rows. SQLAlchemy's executemany rebuilds every
    row's parameters (about three times the database's own time for the cascade's rows)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    given = list(rows[0])
    defaults = {
        column.name: column.default.arg(None) if column.default.is_callable else column.default.arg
        for column in table.columns
        if column.name not in given and isinstance(column.default, ColumnDefault)
    }
    names = given + list(defaults)
    compiled = insert(table).compile(dialect=dialect, column_keys=names, for_executemany=True)
    order = list(compiled.positiontup or []) if dialect.positional else names
    getters: list[Callable[[Mapping[str, Any]], Any]] = []
    for name in order:
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if name in defaults:
            getters.append(_constant(process(defaults[name]) if process else defaults[name]))
        elif process:
            getters.append(_processed(name, process))
        else:
            getters.append(itemgetter(name))
    for chunk in batched(rows, INSERT_ROWS):
        # column by column, zipped into rows in C: twice as fast as a tuple built per row
        values = list(zip(*(list(map(get, chunk)) for get in getters), strict=True))
        connection.exec_driver_sql(
            compiled.string,
            values if dialect.positional else [dict(zip(order, v, strict=True)) for v in values],
        )


def conflict_insert(bind: Session | Connection | Engine, table: Any) -> Any:
    """``INSERT`` into ``table`` with ``ON CONFLICT`` clauses (``on_conflict_do_nothing``,
    ``on_conflict_do_update``, ``excluded``): PostgreSQL's construct or SQLite's, as ``bind``
    talks to one or the other (the one home of that choice)."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return (postgresql if engine.dialect.name == "postgresql" else sqlite).insert(table)


def constant(column: Any, value: Any) -> Any:
    """``value`` as a constant column of a SELECT feeding ``column`` in an INSERT … SELECT,
    typed as the column (a NULL too: PostgreSQL would take an untyped one for text)."""
    if value is None:
        return sql_cast(null(), column.type).label(column.name)
    return literal(value, type_=column.type).label(column.name)


def _constant(value: Any) -> Callable[[Mapping[str, Any]], Any]:
    return lambda _row: value


def _processed(name: str, process: Callable[[Any], Any]) -> Callable[[Mapping[str, Any]], Any]:
    done: dict[Any, Any] = {}  # a few dates recur in thousands of rows: convert each once

    def get(row: Mapping[str, Any]) -> Any:
        value = row[name]
        try:
            return done[value]
        except KeyError:
            done[value] = out = process(value)
            return out
        except TypeError:  # not hashable (a JSON list)
            return process(value)

    return get


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched (``Session.execute`` types it as a Result)."""
    return cast("CursorResult[Any]", result).rowcount


def is_sqlite(engine: Engine) -> bool:
    """True when the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


MIGRATIONS = "planflow:migrations"
BASELINE = "0001"  # the schema `metadata.create_all` made before planflow had migrations


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for planflow's migrations, bound to ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration; there is exactly one."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "planflow/migrations/versions holds no migration"
    return head


def current_revision(connection: Connection) -> str | None:
    """The migration the database is at, or None for a database planflow never migrated."""
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection that alone may migrate this database until the block ends.

    PostgreSQL: a transaction-level advisory lock keyed by the schema, so two processes that
    start at once migrate one after the other (the second finds the work done). SQLite: an
    exclusive lock on a file beside the database (DDL there is not one transaction).
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = "hashtext('planflow-migrate:' || current_schema())"
            conn.execute(text(f"SELECT pg_advisory_xact_lock({key})"))
            yield conn
            conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        with engine.connect() as conn:
            yield conn
            conn.commit()
        return
    with open(f"{database}.migrate-lock", "a+b") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            with engine.connect() as conn:
                yield conn
                conn.commit()
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def upgrade_schema(engine: Engine | None = None, revision: str = "head") -> tuple[str | None, str]:
    """Migrate the database to ``revision``; returns the revisions before and after.

    A database made before planflow had migrations (tables, no ``alembic_version``) is first
    stamped with the baseline it matches. Safe to run from several processes at once.
    """
    engine = engine or get_engine()
    target = head_revision() if revision == "head" else revision
    with engine.connect() as conn:
        before = current_revision(conn)
    if before == target:
        return before, target
    with _migration_lock(engine) as conn:
        before = current_revision(conn)
        if before == target:
            return before, target
        config = alembic_config(conn)
        if before is None and inspect(conn).has_table("org_unit"):
            command.stamp(config, BASELINE)
        command.upgrade(config, revision)
        return before, current_revision(conn) or target


def create_schema(engine: Engine | None = None) -> None:
    """Bring the database to the newest schema by running the migrations (idempotent)."""
    upgrade_schema(engine)


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
