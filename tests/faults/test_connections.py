"""Dropped database connections and killed processes: the work finishes, nothing is lost,
nothing is done twice. PostgreSQL connections are really terminated (pg_terminate_backend);
SQLite, which has no server, gets its busy-database error at the same statement."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from planflow.config.db import get_engine
from planflow.config.settings import get_settings
from planflow.models import OutboxMessage, OutboxStatus, Plan, ReportRequest, State
from planflow.notifications import build_channels, dispatch_due, enqueue
from planflow.services import hierarchy
from planflow.services.catalogue import load_indicators
from tests import factories as f
from tests.notifications.conftest import Controller, Inbox, drafts, free_port, local

pytestmark = pytest.mark.faults

HANOI_SUB_PLANS = 556


def _count(engine, model, *where) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def smtp(monkeypatch):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(),
                            server_hostname="smtp.test")
    controller.start()
    monkeypatch.setenv("PLANFLOW_CHANNELS", "email")
    monkeypatch.setenv("PLANFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PLANFLOW_SMTP_PORT", str(controller.port))
    get_settings.cache_clear()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.mark.parametrize(
    ("where", "times"),
    [("UPDATE outbox_message SET status", 4),  # the sweep of exhausted rows, then sent marks
     ("UPDATE outbox_message SET attempts", 2)],  # claims
)
def test_dispatch_survives_a_dropped_connection_and_sends_each_message_once(
    engine, tree, smtp, kill_connection, where, times
):
    """The drop hits the sent mark of a message (or a claim); the dispatcher reconnects, goes
    on with the batch and the next ones, and every message reaches the SMTP server once."""
    n = 40
    unit_id = tree.requests["Phường Phúc Xá"].unit_id
    with Session(engine) as s:
        enqueue(s, drafts(n, unit_id), now=local(2025, 5, 27, 6, 0))
        s.commit()
    dispatcher_engine = get_engine()
    killer = kill_connection(dispatcher_engine, where, times=times)
    result = dispatch_due(engine=dispatcher_engine, channels=build_channels(get_settings()),
                          now=local(2025, 5, 27), batch_size=10)
    assert killer.fired == times
    received = Counter(m["Subject"] for m in smtp.messages)
    lost = n - len(received)
    duplicated = sum(c - 1 for c in received.values())
    assert (lost, duplicated) == (0, 0)
    assert result.sent == n and result.unrecorded == 0
    assert _count(engine, OutboxMessage, OutboxMessage.status == OutboxStatus.sent) == n


@pytest.fixture
def hanoi(engine) -> int:
    with Session(engine) as s:
        hierarchy.load_units(session=s, province="Hà Nội", tiers=3)
        load_indicators(session=s)
        plan = f.hanoi_plan(s, issue=False)
        s.commit()
        return plan.id


def _no_duplicate_sub_plans(engine, plan_id: int) -> tuple[int, int]:
    with Session(engine) as s:
        issuers = s.exec(select(Plan.issuer_id).where(Plan.root_id == plan_id)).all()
    return len(issuers), len(issuers) - len(set(issuers))


@pytest.mark.parametrize(
    "where", ["SELECT org_unit.path \nFROM org_unit", "INSERT INTO assignment"]
)
def test_issue_flow_survives_a_dropped_connection(
    engine, hanoi, prefect_server, kill_connection, where
):
    """The drop hits a read-only task (the branches of the cascade) or the cascade's write;
    Prefect retries that task on a new connection and the flow completes."""
    from planflow.flows.plans import issue_plan_flow

    killer = kill_connection(get_engine(), where)
    summary = issue_plan_flow(hanoi, actor="Sở LĐTBXH")
    assert killer.fired == 1
    assert summary.issued and summary.sub_plans_created == HANOI_SUB_PLANS
    made, duplicated = _no_duplicate_sub_plans(engine, hanoi)
    assert (HANOI_SUB_PLANS - made, duplicated) == (0, 0)


KILLED_ISSUE = """
import sys, time
from planflow.config.db import session_scope
from planflow.services import cascade, plans
plan_id = int(sys.argv[1])
with session_scope() as s:
    plans.issue_plan(session=s, plan_id=plan_id, actor="Sở LĐTBXH")
from planflow.flows.plans import branches_of
for branch, _ in branches_of.fn(plan_id)[:3]:
    with session_scope() as s:
        cascade.cascade_plan(session=s, plan_id=plan_id, branch_ids=[branch])
print("cascading", flush=True)
time.sleep(600)
"""


def test_issue_killed_with_sigkill_is_finished_by_a_re_run(engine, hanoi, prefect_server):
    """SIGKILL after the plan was issued and three districts cascaded: running issue-plan
    again finishes the cascade (it used to fail: 'issue' is not allowed)."""
    from planflow.flows.plans import issue_plan_flow

    child = subprocess.Popen([sys.executable, "-c", KILLED_ISSUE, str(hanoi)],
                             stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert child.stdout.readline().strip() == "cascading"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGKILL
    partial, _ = _no_duplicate_sub_plans(engine, hanoi)
    assert 0 < partial < HANOI_SUB_PLANS
    requests = _count(engine, ReportRequest, ReportRequest.plan_id == hanoi)
    summary = issue_plan_flow(hanoi, actor="Sở LĐTBXH")
    assert summary.issued and summary.sub_plans_created == HANOI_SUB_PLANS - partial
    made, duplicated = _no_duplicate_sub_plans(engine, hanoi)
    assert (HANOI_SUB_PLANS - made, duplicated) == (0, 0)
    assert _count(engine, ReportRequest, ReportRequest.plan_id == hanoi) == requests
    with Session(engine) as s:
        assert s.get(Plan, hanoi).status == State.issued
