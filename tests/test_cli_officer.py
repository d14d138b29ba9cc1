"""The officer's steps from the command line: entering a plan's details, issuing, cascading,
aggregating, the sweep and the outbox; each runs the same Prefect flow as the UI (local mode)."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlmodel import Session

from planflow.models import Plan, State
from planflow.services import hierarchy
from tests import factories as f


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "160"}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([sys.executable, "-m", "planflow", *args], capture_output=True,
                          text=True, check=False, env=env, timeout=timeout)


def _draft(engine) -> int:
    with Session(engine) as s:
        hierarchy.load_units(session=s, province="Hà Nội", tiers=3)
        plan = f.hanoi_plan(s, issue=False)
        plan.number = plan.issued_on = plan.signer_name = None
        s.add(plan)
        s.commit()
        return plan.id


def test_plan_set_enters_the_details_and_says_what_is_still_missing(engine) -> None:
    plan_id = _draft(engine)
    out = _run("plan", "set", str(plan_id), "--number", "01/KH-UBND")
    assert out.returncode == 0, out.stderr
    assert "Chưa thể ban hành, còn thiếu: ngày ban hành; người ký" in out.stdout
    bad = _run("plan", "set", str(plan_id), "--issued-on", "31/02/2025")
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1
    assert "ngày không hợp lệ" in bad.stderr
    out = _run("plan", "set", str(plan_id), "--issued-on", "20/01/2025", "--signer",
               "Vũ Thu Hà", "--signer-title", "KT. CHỦ TỊCH PHÓ CHỦ TỊCH")
    assert out.returncode == 0, out.stderr
    assert f"Có thể ban hành: planflow plan issue {plan_id}" in out.stdout
    with Session(engine) as s:
        plan = s.get(Plan, plan_id)
        assert (plan.number, plan.signer_name, plan.status) == (
            "01/KH-UBND", "Vũ Thu Hà", State.drafted)
        assert plan.issued_on.isoformat() == "2025-01-20"
