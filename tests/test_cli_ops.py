"""`planflow states`, `status` and `db init` as a user calls them."""

from __future__ import annotations

import json
import subprocess
import sys

from sqlmodel import Session

from planflow.services.cascade import cascade_plan
from tests import factories as f


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "planflow", *args], capture_output=True, text=True, check=False
    )


def test_states_mermaid_draws_both_machines_from_the_tables() -> None:
    from planflow.states import PLAN_MOVES, REPORT_MOVES

    out = _run("states", "--mermaid")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("stateDiagram-v2") == 2
    arrows = sum(len(m.sources) for m in PLAN_MOVES + REPORT_MOVES)
    assert out.stdout.count(" : ") == arrows
    assert "submitted --> acknowledged : return [reason_given]" in out.stdout


def test_status_json_counts_plans_and_requests_by_state(engine) -> None:
    with Session(engine) as s:
        f.hanoi_units(s)
        plan = f.hanoi_plan(s)
        from planflow.services.plans import ensure_requests

        ensure_requests(s, [plan.id])
        cascade_plan(session=s, plan_id=plan.id)
        s.commit()
    out = _run("status", "--json")
    assert out.returncode == 0, out.stderr
    (tree,) = json.loads(out.stdout)
    assert tree["number"] == "1/KH-UBND" and tree["status"] == "issued"
    assert tree["plans_by_state"] == {"issued": 1, "drafted": 556}
    assert set(tree["requests_by_kind_and_state"]) == {"sub_plan", "six_month", "annual"}


def test_db_init_is_idempotent_and_status_on_an_empty_database_says_so() -> None:
    assert _run("db", "init").returncode == 0
    assert _run("db", "init").returncode == 0
    out = _run("status")
    assert out.returncode == 0 and "chưa có kế hoạch nào" in out.stdout


def test_unknown_plan_is_one_line_and_non_zero() -> None:
    out = _run("plan", "render", "999")
    assert out.returncode != 0
    assert out.stderr.strip().count("\n") == 0 and "kế hoạch 999" in out.stderr
    assert "Traceback" not in out.stderr
