"""The losers of a race, with real processes: two cascades of one plan at once, two first
schema creations at once. One set of rows, 0 duplicated, 0 missing; the loser finds what the
winner wrote and carries on; no database error text reaches the officer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, text
from sqlmodel import Session, SQLModel, select

import planflow.models  # noqa: F401  (registers the tables)
from planflow.config.db import current_revision, head_revision
from planflow.models import Plan, ReportRequest
from planflow.services import hierarchy, plans
from planflow.services.catalogue import load_indicators
from tests import factories as f
from tests.conftest import BACKENDS, make_engine

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
HANOI_SUB_PLANS = 556
DB_ERRORS = ("IntegrityError", "UniqueViolation", "duplicate key", "UNIQUE constraint", "[SQL",
             "Traceback", "OperationalError")


def _spawn(role: str, arg: int, folder: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.losers", role, str(arg), str(folder)],
        env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen) -> tuple[str, str]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, (out, err)
    return out, err


def test_two_cascades_of_one_plan_at_once_make_one_set(engine, prefect_server, tmp_path):
    """One process cascades Hà Nội's plan and holds its transaction after its first level;
    ``planflow plan cascade`` runs meanwhile and runs into those rows. It finds them, says
    they were already there, and the tree has each sub-plan and request once."""
    from prefect.settings import get_current_settings

    with Session(engine) as s:
        hierarchy.load_units(session=s, province="Hà Nội", tiers=3)
        load_indicators(session=s)
        plan = f.hanoi_plan(s, issue=False)
        plans.issue_plan(session=s, plan_id=plan.id, actor="Sở LĐTBXH")
        s.commit()
        plan_id = plan.id
    folder = tmp_path / "barrier"
    folder.mkdir()
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    holder = _spawn("cascade-holder", plan_id, folder, env)
    loser = _spawn("cascade-cli", plan_id, folder, env)
    held_out, _ = _finish(holder)
    out, err = _finish(loser)
    created, requests = held_out.split()[2::2]
    assert int(created) == HANOI_SUB_PLANS and int(requests) > 0
    said = out + err
    assert not [e for e in DB_ERRORS if e in said], said
    last = out.strip().splitlines()[-1]
    assert last == "Phân cấp xong: tạo mới 0 kế hoạch cấp dưới, 556 đã có, 0 yêu cầu báo cáo"
    with Session(engine) as s:
        issuers = s.exec(select(Plan.issuer_id).where(Plan.root_id == plan_id)).all()
        keys = s.exec(select(ReportRequest.plan_id, ReportRequest.unit_id, ReportRequest.kind,
                             ReportRequest.period)).all()
        on_sub_plans = s.scalar(select(func.count()).select_from(ReportRequest).where(
            ReportRequest.plan_id.in_(select(Plan.id).where(Plan.root_id == plan_id))))
    missing, duplicated = HANOI_SUB_PLANS - len(set(issuers)), len(issuers) - len(set(issuers))
    assert (missing, duplicated) == (0, 0)
    assert len(keys) == len(set(keys))
    assert on_sub_plans == int(requests)  # every request the winner wrote, none more


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_first_schema_upgrades_at_once_both_succeed(backend, tmp_path):
    """``planflow db upgrade`` twice at once on an empty PostgreSQL schema or a new SQLite
    file: the first migrates while the second waits at the lock, then finds nothing to do."""
    engine, url, cleanup = make_engine(backend, tmp_path, migrate=False)
    folder = tmp_path / "barrier"
    folder.mkdir()
    env = {**os.environ, "PLANFLOW_DATABASE_URL": url}
    try:
        procs = [_spawn("upgrade", n, folder, env) for n in (0, 1)]
        outs = [_finish(p) for p in procs]
        lines = [out.strip() for out, _ in outs]
        assert [err for _, err in outs] == ["", ""]
        assert all(line.count("\n") == 0 for line in lines), lines
        assert sum(f"đã nâng từ phiên bản trống lên {head_revision()}" in line
                   for line in lines) == 1, lines
        assert sum("không cần làm gì" in line for line in lines) == 1, lines
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            versions = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar()
            tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        assert versions == 1
        assert tables == set(SQLModel.metadata.tables)
    finally:
        cleanup()
