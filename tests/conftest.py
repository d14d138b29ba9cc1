"""Shared fixtures: a fresh database per test, on SQLite always and PostgreSQL when configured.

Set ``PLANFLOW_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
to run every database test on PostgreSQL too; each test gets its own schema, dropped after.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

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


def make_engine(
    backend: str, tmp_path: Path, *, migrate: bool = True
) -> tuple[Engine, str, Callable[[], None]]:
    """An empty planflow database on ``backend`` (migrated to the newest schema unless
    ``migrate`` is false); returns the engine, its URL and a cleanup."""
    if backend == "sqlite":
        from planflow.config.db import get_engine

        url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = get_engine(url)
        if migrate:
            create_schema(engine)
        return engine, url, engine.dispose
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa_create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = POSTGRES_URL + ("&" if "?" in POSTGRES_URL else "?") + f"options=-csearch_path%3D{schema}"
    engine = sa_create_engine(url)
    if migrate:
        create_schema(engine)

    def cleanup() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

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
