"""The officer's steps from the command line: entering a plan's details, issuing, cascading,
aggregating, the sweep and the outbox; each runs the same Prefect flow as the UI (local mode)."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlmodel import Session

from planflow.models import Plan, State
from tests import factories as f


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "160"}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([sys.executable, "-m", "planflow", *args], capture_output=True,
                          text=True, check=False, env=env, timeout=timeout)


def _draft(engine) -> int:
    with Session(engine) as s:
        f.hanoi_units(s)
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


def test_officer_steps_run_the_flows_and_answer_in_vietnamese(engine) -> None:
    plan_id = _draft(engine)
    refused = _run("plan", "issue", str(plan_id))
    assert refused.returncode == 1
    assert refused.stderr.strip().count("\n") == 0, refused.stderr
    assert (f"Kế hoạch {plan_id} chưa thể ban hành, còn thiếu: số, ký hiệu văn bản; ngày ban "
            "hành; người ký") in refused.stderr
    assert "ở chế độ cục bộ" in refused.stdout
    out = _run("plan", "issue", str(plan_id), "--number", "01/KH-UBND", "--issued-on",
               "20/01/2025", "--signer", "Vũ Thu Hà")
    assert out.returncode == 0, out.stderr
    assert "Đã ban hành 01/KH-UBND:" in out.stdout and "556 dự thảo kế hoạch cấp dưới" in out.stdout
    again = _run("plan", "cascade", str(plan_id))
    assert again.returncode == 0, again.stderr
    assert "tạo mới 0 kế hoạch cấp dưới, 556 đã có" in again.stdout
    out = _run("report", "aggregate", "--plan", str(plan_id), "--kind", "six_month",
               "--period", "2025-H1")
    assert out.returncode == 0, out.stderr
    assert "Tổng hợp xong 2025-H1" in out.stdout
    out = _run("sweep", "--now", "2025-06-02T08:00")
    assert out.returncode == 0, out.stderr
    assert "Rà soát xong:" in out.stdout and "mới quá hạn" in out.stdout
    out = _run("outbox", "retry-dead")
    assert out.returncode == 0, out.stderr
    assert "Đưa lại hàng đợi 0 thông báo" in out.stdout
