"""Shared fixtures: an empty database per test, on SQLite always and PostgreSQL when configured.

Set ``PLANFLOW_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
to run every database test on PostgreSQL too; each test gets a schema of its own (emptied and
reused by a later test of the same process, dropped when the run ends).
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel

import planflow.models  # noqa: F401  (the tables SQLModel.metadata holds)
from planflow.config.db import create_schema

# Prefect keeps its own state under PREFECT_HOME: a temporary folder, never the repo or ~/.prefect.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="planflow-prefect-")
for _key, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(_key, _value)

POSTGRES_URL = os.environ.get("PLANFLOW_TEST_POSTGRES_URL", "").strip()
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def _backends_line() -> str:
    if POSTGRES_URL:
        return "planflow backends: sqlite, postgresql"
    return (
        "planflow backends: sqlite only (PLANFLOW_TEST_POSTGRES_URL is not set: "
        "the PostgreSQL variants were not collected)"
    )


def pytest_report_header(config: pytest.Config) -> str:
    return _backends_line()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(_backends_line())


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own data folder and database URL, and fresh cached settings."""
    from planflow.config.db import get_engine
    from planflow.config.settings import get_settings

    monkeypatch.setenv("PLANFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'planflow.db'}")
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield
    get_settings.cache_clear()
    get_engine.cache_clear()


# --- databases: migrated once per process, handed out empty ---------------------------------
#
# Running the migrations costs about a second per database. Each process migrates one SQLite
# file and copies it for every test; on PostgreSQL a test's schema, once the test is done, is
# emptied (TRUNCATE … RESTART IDENTITY) and handed to the next test instead of being dropped.

_SQLITE_TEMPLATE: Path | None = None
_FREE_SCHEMAS: list[str] = []  # migrated, empty PostgreSQL schemas of this process
BIG = 20_000  # requests past which a used schema is dropped rather than emptied
_ALL_SCHEMAS: set[str] = set()


def _sqlite_template() -> Path:
    global _SQLITE_TEMPLATE
    if _SQLITE_TEMPLATE is None:
        folder = Path(tempfile.mkdtemp(prefix="planflow-test-template-"))
        from planflow.config.db import get_engine

        source = get_engine(f"sqlite:///{folder / 'migrated.db'}")
        create_schema(source)
        source.dispose()
        template = folder / "template.db"
        with sqlite3.connect(folder / "migrated.db") as src, sqlite3.connect(template) as dst:
            src.backup(dst)
        src.close()
        dst.close()
        _SQLITE_TEMPLATE = template
    return _SQLITE_TEMPLATE


def _schema_url(schema: str) -> str:
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


def _admin() -> Engine:
    return sa_create_engine(POSTGRES_URL, poolclass=NullPool)


def _new_schema(*, migrate: bool) -> str:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    _ALL_SCHEMAS.add(schema)
    if migrate:
        engine = sa_create_engine(_schema_url(schema), poolclass=NullPool)
        create_schema(engine)
        engine.dispose()
    return schema


def _drop_schema(schema: str) -> None:
    admin = _admin()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()
    _ALL_SCHEMAS.discard(schema)


def _emptied(schema: str) -> bool:
    """Empty a used schema for the next test (DELETE and sequences restarted: far cheaper than
    TRUNCATE for a test's few rows); False when it is no longer as migrated (a test changed
    its tables), holds a big tree or stays locked: then the caller drops it."""
    from planflow.config.db import head_revision

    tables = [t.name for t in SQLModel.metadata.sorted_tables]  # parents first
    admin = _admin()
    try:
        with admin.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            found = conn.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema},
            ).scalars()
            if set(found) != {*tables, "alembic_version"}:
                return False
            version = conn.execute(text(f'SELECT version_num FROM "{schema}".alembic_version'))
            if version.scalars().all() != [head_revision()]:
                return False
            # a national tree (tens of thousands of rows) is far quicker dropped than deleted:
            # DELETE checks every foreign key row by row
            big = conn.execute(text(
                f'SELECT count(*) FROM (SELECT 1 FROM "{schema}".report_request LIMIT {BIG})'
            )).scalar_one()
            if big >= BIG:
                return False
            sequences = conn.execute(
                text(
                    "SELECT sequence_name FROM information_schema.sequences "
                    "WHERE sequence_schema = :s"
                ),
                {"s": schema},
            ).scalars()
            conn.exec_driver_sql(
                "; ".join(
                    [f'DELETE FROM "{schema}"."{t}"' for t in reversed(tables)]
                    + [f'ALTER SEQUENCE "{schema}"."{q}" RESTART' for q in sequences]
                )
            )
        return True
    except Exception:
        return False
    finally:
        admin.dispose()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for schema in list(_ALL_SCHEMAS):
        _drop_schema(schema)


def make_engine(
    backend: str, tmp_path: Path, *, migrate: bool = True
) -> tuple[Engine, str, Callable[[], None]]:
    """An empty planflow database on ``backend`` (migrated to the newest schema unless
    ``migrate`` is false); returns the engine, its URL and a cleanup."""
    if backend == "sqlite":
        from planflow.config.db import get_engine

        database = tmp_path / "test.db"
        if migrate:
            shutil.copyfile(_sqlite_template(), database)
        url = f"sqlite:///{database}"
        engine = get_engine(url)
        return engine, url, engine.dispose
    schema = _FREE_SCHEMAS.pop() if migrate and _FREE_SCHEMAS else _new_schema(migrate=migrate)
    url = _schema_url(schema)
    engine = sa_create_engine(url)

    def cleanup() -> None:
        engine.dispose()
        if migrate and _emptied(schema):
            _FREE_SCHEMAS.append(schema)
        else:
            _drop_schema(schema)

    return engine, url, cleanup


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, empty planflow database (tables created) on each configured backend."""
    eng, url, cleanup = make_engine(request.param, tmp_path)
    os.environ["PLANFLOW_DATABASE_URL"] = url
    from planflow.config.settings import get_settings

    get_settings.cache_clear()
    try:
        yield eng
    finally:
        cleanup()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the fresh database; the test decides when to commit."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


# --- data many tests start from, built for real once per backend and process ------------------

_BUILT: dict[tuple[str, str], tuple[list[tuple[Table, list[dict[str, Any]]]], Any]] = {}
T = TypeVar("T")


def _is_empty(session: Session) -> bool:
    counts = [select(func.count()).select_from(t) for t in SQLModel.metadata.sorted_tables]
    return not any(session.execute(q).scalar_one() for q in counts)


def built_once(session: Session, key: str, build: Callable[[Session], T]) -> T:
    """``build(session)`` on an empty database: the first time per backend and process it runs
    for real, and the rows it wrote and what it returned are kept; later calls insert those
    same rows (ids included) in one statement per table and return the same value. On a
    database that is not empty it always runs for real. ``build`` must depend on nothing but
    the database (what it returns: ids and plain values)."""
    dialect = session.get_bind().dialect.name
    if not _is_empty(session):
        return build(session)
    kept = _BUILT.get((key, dialect))
    if kept is None:
        value = build(session)
        session.flush()
        rows = [
            (table, found)
            for table in SQLModel.metadata.sorted_tables
            if (
                found := [
                    dict(r._mapping)
                    for r in session.execute(select(table).order_by(*table.primary_key.columns))
                ]
            )
        ]
        _BUILT[(key, dialect)] = (rows, value)
        return value
    rows, value = kept
    if dialect == "postgresql":  # rows that point at later rows: not checked again (they held)
        session.execute(text("SET LOCAL session_replication_role = replica"))
    for table, found in rows:
        session.execute(insert(table), found)
        if dialect == "postgresql" and "id" in table.c:
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT max(id) FROM \"{table.name}\"))"
                )
            )
    if dialect == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = DEFAULT"))
    session.flush()
    return value


# --- the demo, run once per test run (it takes minutes) ---------------------------------------

SMTP_SERVER = """
import sys, time
from aiosmtpd.controller import Controller
class Count:
    async def handle_DATA(self, server, session, envelope):
        with open(sys.argv[2], "a", encoding="utf-8") as out:
            out.write(",".join(envelope.rcpt_tos) + "\\n")
        return "250 OK"
c = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]), server_hostname="smtp.test")
c.start()
time.sleep(3600)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, what: str, timeout: float = 30.0) -> None:
    """Poll until something listens on ``port`` of 127.0.0.1; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not listen on {port}") from None
            time.sleep(0.05)


@dataclass
class DemoRun:
    """``planflow demo`` run twice on one database, as a user runs it, delivering real e-mail
    to an SMTP server on loopback; the messages' links point at ``public_url``."""

    engine: Engine
    public_url: str
    port: int  # free when the demo ran: where a test may serve the portal
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    delivered_by_first: list[str]
    delivered: list[str]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """The demo on the last configured backend (PostgreSQL in CI), once for the tests that read
    it (marked ``demo``, all in tests/demo/test_demo.py: ``make test`` gives a file to one worker,
    so the demo runs once)."""
    tmp = tmp_path_factory.mktemp("demo")
    engine, url, _ = make_engine(BACKENDS[-1], tmp)
    smtp_port, portal_port = free_port(), free_port()
    public_url = f"http://127.0.0.1:{portal_port}"
    received = tmp / "received.txt"
    received.touch()
    smtp = subprocess.Popen([sys.executable, "-c", SMTP_SERVER, str(smtp_port), str(received)])
    env = {
        **os.environ,
        "PLANFLOW_DATABASE_URL": url,
        "PLANFLOW_DATA_DIR": str(tmp / "data"),
        "PLANFLOW_PUBLIC_URL": public_url,
        "PLANFLOW_CHANNELS": "email",
        "PLANFLOW_SMTP_HOST": "127.0.0.1",
        "PLANFLOW_SMTP_PORT": str(smtp_port),
        "PREFECT_HOME": str(tmp / "prefect"),
        "COLUMNS": "140",
    }
    # the demo's console as a user has it (the CLI's own level), not this suite's WARNING: the
    # temporary Prefect server may log an ERROR with a traceback when it is stopped mid-flush
    # at exit, which a user never sees (it failed this test once in CI)
    env.pop("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", None)

    def demo() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "planflow", "demo"],
            env=env, capture_output=True, text=True, timeout=900, check=False,
        )

    try:
        wait_for_port(smtp_port, "the SMTP server")
        first = demo()
        assert first.returncode == 0, first.stderr[-2000:]
        delivered_by_first = received.read_text().splitlines()
        second = demo()
        assert second.returncode == 0, second.stderr[-2000:]
    finally:
        smtp.kill()
        smtp.wait()
    try:
        yield DemoRun(
            engine=engine,
            public_url=public_url,
            port=portal_port,
            first=first,
            second=second,
            delivered_by_first=delivered_by_first,
            delivered=received.read_text().splitlines(),
        )
    finally:  # its schema (if PostgreSQL) is dropped with the others when the run ends
        engine.dispose()
