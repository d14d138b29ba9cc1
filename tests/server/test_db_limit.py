"""The global concurrency limit ``planflow-db`` really bounds the database-heavy tasks: on a
real server, with the limit at 1 and its one slot held by the test, two cascades started at
once both run yet neither writes anything; released, they finish, every cascade batch having
taken the single slot in turn."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from planflow.models import Plan
from planflow.services import hierarchy
from tests import factories as f
from tests.server.conftest import BIN, PrefectServer, wait_for

pytestmark = pytest.mark.server


def test_the_db_limit_holds_back_every_cascade_batch(
    prefect_server: PrefectServer, engine, tmp_path
) -> None:
    with Session(engine) as s:
        hierarchy.load_units(session=s, province="Hà Nội", tiers=3)
        roots = [f.hanoi_plan(s, number=n).id for n in ("1/KH-UBND", "2/KH-UBND")]
        s.commit()
    api = prefect_server.api
    api("POST", "/v2/concurrency_limits/", json={"name": "planflow-db", "limit": 1})
    held = api("POST", "/v2/concurrency_limits/increment-with-lease",
               json={"names": ["planflow-db"], "slots": 1, "lease_duration": 300})
    since = datetime.now(UTC).isoformat()
    env = {**prefect_server.env, "PLANFLOW_DATABASE_URL": os.environ["PLANFLOW_DATABASE_URL"]}
    procs = [
        prefect_server.start([str(BIN / "planflow"), "plan", "cascade", str(root),
                              "--units-per-task", "150"], log=tmp_path / f"cascade-{root}.log",
                             env=env)
        for root in roots
    ]

    def waiting_in_a_batch() -> list[dict]:
        tasks = api("POST", "/task_runs/filter", json={"task_runs": {
            "name": {"like_": "cascade_batch"}, "state": {"type": {"any_": ["RUNNING"]}}}})
        return tasks if len({t["flow_run_id"] for t in tasks}) == 2 else []

    for proc in procs:
        assert proc.poll() is None, (tmp_path / f"cascade-{roots[0]}.log").read_text()
    wait_for("both cascades to wait inside a batch task", waiting_in_a_batch, timeout=240)
    with Session(engine) as s:  # the slot is ours: no batch has written a sub-plan
        below = s.scalar(select(func.count()).select_from(Plan).where(
            Plan.root_id.in_(roots), Plan.id.not_in(roots)))
    assert below == 0
    api("POST", "/v2/concurrency_limits/decrement-with-lease", json={"lease_id": held["lease_id"]})

    for proc, root in zip(procs, roots, strict=True):
        assert proc.wait(timeout=300) == 0, (tmp_path / f"cascade-{root}.log").read_text()
    with Session(engine) as s:
        for root in roots:
            assert s.scalar(select(func.count()).select_from(Plan).where(
                Plan.root_id == root, Plan.id != root)) == 556
    batches = api("POST", "/task_runs/filter", json={"task_runs": {
        "name": {"like_": "cascade_batch"}, "state": {"type": {"any_": ["COMPLETED"]}}}})
    assert len(batches) >= 4 and len({t["flow_run_id"] for t in batches}) == 2
    # each batch took the one slot: as many acquisitions of the limit as batches
    def acquisitions() -> list[dict]:
        return api("POST", "/events/filter", json={"filter": {
            "event": {"prefix": ["prefect.concurrency-limit.acquired"]},
            "occurred": {"since": since}}, "limit": 50})["events"]

    # events are stored a moment after they are sent: wait until all are in, then count
    events = wait_for("the slot acquisitions to be recorded",
                      lambda: (found := acquisitions()) and len(found) >= len(batches) and found,
                      timeout=60)
    assert len(events) == len(batches), [e["event"] for e in events]
    limit = api("GET", "/v2/concurrency_limits/planflow-db")
    assert limit["active_slots"] == 0  # every slot given back
