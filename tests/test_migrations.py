"""The Alembic migrations: one head, the migrated schema equals the models', safe to run twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import planflow.models  # noqa: F401  (registers the tables)
from planflow.config.db import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade_schema,
)
from tests.conftest import BACKENDS, make_engine


def _diff(engine: Engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def test_there_is_exactly_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert heads == [head_revision()], f"several heads, merge them: {heads}"


def test_the_migrated_schema_equals_the_models(engine: Engine) -> None:
    """`engine` was built by create_schema, i.e. by running every migration."""
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    assert _diff(engine) == []


def test_downgrade_to_nothing_and_back(engine: Engine) -> None:
    with engine.connect() as conn:
        command.downgrade(alembic_config(conn), "base")
        conn.commit()
        assert not inspect(conn).has_table("plan")
    before, after = upgrade_schema(engine)
    assert (before, after) == (None, head_revision())
    assert _diff(engine) == []


def test_a_database_made_before_migrations_is_adopted(engine: Engine) -> None:
    """Tables made by metadata.create_all and no alembic_version: stamped, then migrated."""
    with engine.connect() as conn:  # the tables as they were before migrations: the first
        command.downgrade(alembic_config(conn), "0001")  # revision's, without alembic_version
        conn.execute(text("DROP TABLE alembic_version"))
        conn.commit()
    with engine.connect() as conn:
        assert current_revision(conn) is None
    before, after = upgrade_schema(engine)
    assert before is None and after == head_revision()
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [v for (v,) in versions] == [head_revision()]
    assert _diff(engine) == []


_RACE = """
import sys
from sqlalchemy import create_engine
from planflow.config.db import create_schema
create_schema(create_engine(sys.argv[1]))
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_processes_migrating_at_once_both_succeed(backend: str, tmp_path: Path) -> None:
    engine, url, cleanup = make_engine(backend, tmp_path, migrate=False)
    try:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        procs = [
            subprocess.Popen([sys.executable, "-c", _RACE, url], env=env, stderr=subprocess.PIPE)
            for _ in range(3)
        ]
        errors = [p.communicate(timeout=120)[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], errors
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
        assert _diff(engine) == []
    finally:
        cleanup()


def test_db_upgrade_command_migrates_and_then_has_nothing_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "PLANFLOW_DATABASE_URL": url}
    run = [sys.executable, "-m", "planflow", "db", "upgrade"]
    first = subprocess.run(run, capture_output=True, text=True, env=env, check=False, timeout=120)
    assert first.returncode == 0, first.stderr
    assert f"đã nâng từ phiên bản trống lên {head_revision()}" in first.stdout
    again = subprocess.run(run, capture_output=True, text=True, env=env, check=False, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "không cần làm gì" in again.stdout
