"""The approval pause on a real ``prefect server start``, as an operator meets it in the UI: an
``issue-plan`` run created from its deployment (served by ``planflow serve``) pauses, its Resume
form names the plan and refuses an incomplete answer, a refusal leaves the plan drafted, and a
second run approved by a named approver issues it, each decision in the plan's audit trail.

The pause is the server's own business (the run input's schema, the resume endpoint, the paused
state kept by the server), so it is tested here and not only under ``prefect_test_harness``.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from sqlmodel import Session, col, select

from planflow.models import Plan, ReportRequest, State, TransitionLog
from tests import factories as f
from tests.server.conftest import BIN, PrefectServer, wait_for

pytestmark = pytest.mark.server

REFUSAL = {"approver": "Chủ tịch UBND", "decision": "không phê duyệt", "comment": "Sửa mục II"}
APPROVAL = {"approver": "Phó Chủ tịch UBND Nguyễn Văn A", "decision": "phê duyệt",
            "comment": "Đồng ý ban hành"}
INCOMPLETE = [
    {},
    {"approver": "", "decision": "phê duyệt", "comment": "x"},
    {"approver": "Nguyễn Văn A", "decision": "có", "comment": "x"},
    {"approver": "Nguyễn Văn A", "decision": "phê duyệt", "comment": ""},
]


def _paused_run(server: PrefectServer, deployment: dict, plan_id: int) -> dict:
    created = server.api("POST", f"/deployments/{deployment['id']}/create_flow_run", json={
        "parameters": {"plan_id": plan_id, "actor": "Văn phòng UBND", "require_approval": True,
                       "cascade": False},
    })
    return wait_for(
        "the issue-plan run to pause for approval",
        lambda: (run := server.flow_run(created["id"]))["state"]["type"] == "PAUSED" and run,
        timeout=300, every=1,
    )


def _resume(server: PrefectServer, run_id: str, answer: dict) -> dict:
    return server.api("POST", f"/flow_runs/{run_id}/resume", json={"run_input": answer})


def _env(server: PrefectServer) -> dict[str, str]:
    """The server's client environment on this test's planflow database."""
    return {**server.env, "PLANFLOW_DATABASE_URL": os.environ["PLANFLOW_DATABASE_URL"]}


def _plan_log(engine, plan_id: int) -> list[TransitionLog]:
    with Session(engine) as s:
        return list(s.exec(
            select(TransitionLog)
            .where(TransitionLog.entity == "plan", TransitionLog.entity_id == plan_id)
            .order_by(col(TransitionLog.id))
        ))


def test_the_resume_form_refuses_then_approves_on_a_real_server(
    prefect_server: PrefectServer, engine, tmp_path
) -> None:
    with Session(engine) as s:
        f.hanoi_units(s)
        plan_id = f.hanoi_plan(s, number="07/KH-UBND", issue=False).id
        s.commit()
    serve_log = tmp_path / "serve.log"
    prefect_server.start([str(BIN / "planflow"), "serve"], log=serve_log,
                         env=_env(prefect_server))
    deployment = wait_for("planflow serve to register issue-plan",
                          lambda: prefect_server.deployment("issue-plan"), timeout=180)

    # 1. paused; the form names the plan and takes no incomplete answer
    paused = _paused_run(prefect_server, deployment, plan_id)
    assert paused["name"] == "ban hành 07/KH-UBND"
    inputs = prefect_server.api("POST", f"/flow_runs/{paused['id']}/input/filter",
                                json={"prefix": "paused", "limit": 10})
    description = next(i["value"] for i in inputs if i["key"].endswith("-description"))
    assert "07/KH-UBND" in description and "Thành phố Hà Nội" in description
    schema = next(i["value"] for i in inputs if i["key"].endswith("-schema"))
    assert set(json.loads(schema)["required"]) == {"approver", "decision", "comment"}
    for answer in INCOMPLETE:
        refused = _resume(prefect_server, paused["id"], answer)
        assert refused["status"] == "REJECT", (answer, refused)
        assert "Validation failed" in refused["details"]["reason"], refused
    assert prefect_server.state_of(paused["id"]) == "PAUSED"

    # 2. refused: the run completes, the plan stays drafted with the refusal in its audit trail
    assert _resume(prefect_server, paused["id"], REFUSAL)["status"] == "ACCEPT"
    run = prefect_server.wait_final(paused["id"], timeout=180)
    assert run["state"]["type"] == "COMPLETED", (run["state"], serve_log.read_text()[-3000:])
    with Session(engine) as s:
        assert s.get(Plan, plan_id).status == State.drafted
        issued = s.exec(select(ReportRequest).where(ReportRequest.plan_id == plan_id,
                                                    ReportRequest.status == State.issued)).all()
        assert issued == []
    [refusal] = _plan_log(engine, plan_id)
    assert (refusal.trigger, refusal.from_state, refusal.to_state) == ("refuse", "drafted",
                                                                     "drafted")
    assert (refusal.approver, refusal.comment) == (REFUSAL["approver"], REFUSAL["comment"])

    # 3. a second run, approved: issued, the approver and comment in the issue's audit row
    paused = _paused_run(prefect_server, deployment, plan_id)
    assert _resume(prefect_server, paused["id"], APPROVAL)["status"] == "ACCEPT"
    run = prefect_server.wait_final(paused["id"], timeout=180)
    assert run["state"]["type"] == "COMPLETED", (run["state"], serve_log.read_text()[-3000:])
    with Session(engine) as s:
        assert s.get(Plan, plan_id).status == State.issued
    refusal_again, issue = _plan_log(engine, plan_id)
    assert refusal_again.id == refusal.id
    assert (issue.trigger, issue.from_state, issue.to_state) == ("issue", "drafted", "issued")
    assert (issue.actor, issue.approver, issue.comment) == (
        "Văn phòng UBND", APPROVAL["approver"], APPROVAL["comment"])
    artifacts = prefect_server.api("POST", "/artifacts/filter", json={
        "flow_runs": {"id": {"any_": [paused["id"]]}}})
    assert any("Đã ban hành 07/KH-UBND" in (a.get("data") or "") and APPROVAL["approver"]
               in a["data"] for a in artifacts), artifacts
    assert "Traceback" not in serve_log.read_text()


def test_a_run_for_an_incomplete_plan_fails_before_pausing_on_a_real_server(
    prefect_server: PrefectServer, engine, tmp_path
) -> None:
    """The CLI against the server: the check comes before the pause, in one Vietnamese line."""
    with Session(engine) as s:
        f.hanoi_units(s)
        plan = f.hanoi_plan(s, issue=False)
        plan.signer_name = None
        s.add(plan)
        s.commit()
        plan_id = plan.id
    env = _env(prefect_server)
    env.pop("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL")  # the console an officer has
    out = subprocess.run([str(BIN / "planflow"), "plan", "issue", str(plan_id)], env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        f"lỗi: Kế hoạch {plan_id} (1/KH-UBND) chưa thể ban hành, còn thiếu: người ký"
    ], out.stderr
    runs = prefect_server.api("POST", "/flow_runs/filter", json={})
    assert [r["state"]["type"] for r in runs if r["name"].startswith("ban hành")] == ["FAILED"]
