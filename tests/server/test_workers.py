"""planflow past one process: a real Prefect server, the deployments registered to the
``planflow`` process work pool by ``planflow deploy``, two ``prefect worker start`` processes,
and planflow's database on PostgreSQL.

- the national cascade (63 province plans) spreads across both workers and creates every
  sub-plan and request exactly once; the same cascade with one worker gives the README's ratio;
- two issue runs of one plan at once: one issues, the other fails with a one-line reason;
- a worker killed with SIGKILL mid-cascade: its runs are marked crashed (heartbeats stop), the
  next reconcile finishes the tree, and nothing is missing or duplicated.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from planflow.models import OrgUnit, Plan, ReportRequest, TransitionLog, UnitKind
from tests.conftest import POSTGRES_URL, make_engine
from tests.server.conftest import BIN, PrefectServer, running_server, stop, wait_for

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PLANFLOW_TEST_POSTGRES_URL"),
]


@dataclass
class Cluster:
    server: PrefectServer
    env: dict[str, str]
    engine: Engine
    tmp: Path
    batches: list[list[int]]  # three sets of 63 issued province plans, not cascaded yet
    drafted: int  # a complete drafted plan, for the concurrent issue
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start_worker(self, name: str, limit: int | None = None) -> subprocess.Popen:
        """A ``prefect worker start`` process; ``limit`` caps the runs it executes at once."""
        args = [str(BIN / "prefect"), "worker", "start", "--pool", "planflow", "--name", name,
                "--type", "process"]
        if limit is not None:
            args += ["--limit", str(limit)]
        proc = self.server.start(args, log=self.tmp / f"{name}.log", env=self.env)
        self.workers[name] = proc
        return proc

    def submitted_by(self, name: str) -> set[str]:
        log = (self.tmp / f"{name}.log").read_text(errors="replace")
        return set(re.findall(r"submitting flow run '([0-9a-f-]{36})'", log))

    def logs(self) -> str:
        """The end of every worker's log, for a failure message."""
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}"
                         for p in sorted(self.tmp.glob("w*.log")))

    def run(self, flow_name: str, parameters: dict) -> str:
        deployment = self.server.deployment(flow_name)
        assert deployment is not None, f"no deployment of {flow_name}"
        return self.server.api(
            "POST", f"/deployments/{deployment['id']}/create_flow_run",
            json={"parameters": parameters},
        )["id"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    from benchmarks import data as bench
    from planflow.services import plans as plan_service

    tmp = tmp_path_factory.mktemp("cluster")
    engine, url, cleanup = make_engine("postgresql", tmp)
    try:
        with Session(engine) as s:
            bench.load(s, "all")
            # each batch re-addresses its own imported draft (Hà Nội's plan is the draft itself)
            batches = [bench.province_plans(s, bench.import_template(s)) for _ in range(3)]
            template = bench.import_template(s)
            s.commit()
            bench.issue_all(s, [pid for batch in batches for pid in batch])
            plan_service.set_details(s, template, number="99/KH-UBND",
                                     issued_on=date(2025, 1, 20), signer_name="Vũ Thu Hà")
            s.commit()
        with prefect_database() as prefect_url, running_server(tmp, prefect_url) as server:
            env = {**server.env, "PLANFLOW_DATABASE_URL": url,
                   "PLANFLOW_DATA_DIR": str(tmp / "data")}
            deployed = subprocess.run([str(BIN / "planflow"), "deploy"], env=env, text=True,
                                      check=False, capture_output=True, timeout=300)
            assert deployed.returncode == 0, deployed.stderr
            assert "prefect worker start --pool planflow" in deployed.stdout
            cluster = Cluster(server=server, env=env, engine=engine, tmp=tmp, batches=batches,
                              drafted=template)
            for name in ("w1", "w2"):
                cluster.start_worker(name)
            yield cluster
    finally:
        cleanup()


@contextmanager
def prefect_database() -> Iterator[str]:
    """A PostgreSQL database of its own for the Prefect server, dropped afterwards."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"prefect_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name, query={})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def tree_counts(engine: Engine, roots: list[int]) -> dict[str, int]:
    """Sub-plans expected (every committee below the provinces), made, duplicated; requests
    duplicated."""
    with Session(engine) as s:
        expected = s.scalar(select(func.count()).select_from(OrgUnit).where(
            OrgUnit.kind == UnitKind.committee, OrgUnit.parent_id.is_not(None),
            OrgUnit.tiers == 3,
        ))
        below = select(Plan.id).where(Plan.root_id.in_(roots), Plan.id.not_in(roots))
        made = s.scalar(select(func.count()).select_from(below.subquery()))
        pairs = s.scalar(select(func.count()).select_from(
            select(Plan.parent_id, Plan.issuer_id).where(Plan.id.in_(below)).distinct().subquery()
        ))
        requests = s.scalar(select(func.count()).select_from(ReportRequest).where(
            ReportRequest.plan_id.in_(below)))
        distinct_requests = s.scalar(select(func.count()).select_from(
            select(ReportRequest.plan_id, ReportRequest.unit_id, ReportRequest.kind,
                   ReportRequest.period).where(ReportRequest.plan_id.in_(below))
            .distinct().subquery()
        ))
    return {"missing": expected - pairs, "duplicate_plans": made - pairs,
            "duplicate_requests": requests - distinct_requests, "made": made,
            "requests": requests}


def seconds(run: dict) -> float:
    start, end = (datetime.fromisoformat(run[k]) for k in ("start_time", "end_time"))
    return (end - start).total_seconds()


@pytest.mark.timeout(1800)  # two national cascades, beside the rest of the suite
def test_national_cascade_spreads_over_two_workers_exactly_once(cluster: Cluster) -> None:
    roots = cluster.batches[0]
    run_id = cluster.run("cascade-many", {"plan_ids": roots, "plans_per_run": 8})
    run = cluster.server.wait_final(run_id, timeout=900)
    assert run["state"]["type"] == "COMPLETED", (run["state"], cluster.logs())
    counts = tree_counts(cluster.engine, roots)
    assert counts["made"] > 10_000 and counts["requests"] > 0
    assert (counts["missing"], counts["duplicate_plans"], counts["duplicate_requests"]) == (0, 0, 0)
    ran = {name: cluster.submitted_by(name) for name in ("w1", "w2")}
    assert all(ran.values()), f"a worker ran nothing: {ran}"
    two = seconds(run)

    # the same cascade with one worker, for the README's ratio (no target asserted)
    stop(cluster.workers.pop("w2"))
    one_id = cluster.run("cascade-many", {"plan_ids": cluster.batches[1], "plans_per_run": 8})
    one_run = cluster.server.wait_final(one_id, timeout=900)
    assert one_run["state"]["type"] == "COMPLETED", (one_run["state"], cluster.logs())
    one = seconds(one_run)
    print(f"\nnational cascade, 63 plans in 8 runs: two workers {two:.1f} s, one worker "
          f"{one:.1f} s, ratio {two / one:.2f}")
    cluster.start_worker("w2b")


def test_two_issue_runs_of_one_plan_one_issues_the_other_fails_in_one_line(
    cluster: Cluster,
) -> None:
    params = {"plan_id": cluster.drafted, "cascade": False}
    ids = [cluster.run("issue-plan", params), cluster.run("issue-plan", params)]
    runs = [cluster.server.wait_final(i, timeout=300) for i in ids]
    states = sorted(r["state"]["type"] for r in runs)
    # the second run either failed in one line (it waited on the row lock), or started after
    # the first committed and only finished the cascade ("đã ban hành trước đó")
    assert states in (["COMPLETED", "FAILED"], ["COMPLETED", "COMPLETED"]), (
        [r["state"] for r in runs], cluster.logs())
    for run in runs:
        message = run["state"]["message"] or ""
        assert "\n" not in message, message
        if run["state"]["type"] == "FAILED":
            assert f"Kế hoạch {cluster.drafted}" in message, message
    with Session(cluster.engine) as s:
        issues = s.scalar(select(func.count()).select_from(TransitionLog).where(
            TransitionLog.entity == "plan", TransitionLog.entity_id == cluster.drafted,
            TransitionLog.trigger == "issue"))
        assert issues == 1
        pairs = s.execute(text(
            "SELECT count(*), count(DISTINCT (unit_id, kind, period)) FROM report_request "
            "WHERE plan_id = :p"), {"p": cluster.drafted}).one()
        assert pairs[0] == pairs[1] > 0


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), children first."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out: list[int] = []
    stack = [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out[::-1]


@pytest.mark.timeout(1800)  # kill, crash marks (90 s, 180 s), the parent, then the reconcile
def test_a_worker_killed_mid_cascade_leaves_a_crashed_run_and_reconcile_finishes(
    cluster: Cluster,
) -> None:
    roots = cluster.batches[2]
    # Which worker takes which run is the workers' race; the test fixes it: the parent's worker
    # runs one flow at a time (the parent), so every child goes to the victim, started after
    # the parent was taken. Killing the victim then never kills the parent.
    for name in list(cluster.workers):
        stop(cluster.workers.pop(name))
    cluster.start_worker("wp", limit=1)
    started = time.monotonic()
    run_id = cluster.run("cascade-many", {"plan_ids": roots, "plans_per_run": 4,
                                          "wait_minutes": 15})
    wait_for("the parent's worker to take the parent run",
             lambda: run_id in cluster.submitted_by("wp"), timeout=300)
    victim = "wv"
    cluster.start_worker(victim)

    def victim_running() -> set[str]:
        taken = cluster.submitted_by(victim)
        return {i for i in taken if cluster.server.state_of(i) == "RUNNING"} if taken else set()

    doomed = wait_for("the victim worker to run a child cascade", victim_running, timeout=300)
    worker = cluster.workers.pop(victim)
    os.kill(worker.pid, signal.SIGSTOP)  # frozen first: it starts no process while we look
    for pid in [*descendants(worker.pid), worker.pid]:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=10)
    killed_at = time.monotonic()
    lost = cluster.submitted_by(victim)  # every run it had taken, running or only claimed

    # the killed worker's running child: its heartbeats stop and the automation crashes it
    crashed = wait_for(
        "the killed worker's run to be marked crashed",
        lambda: [i for i in doomed if cluster.server.state_of(i) == "CRASHED"],
        timeout=240, every=2,
    )
    print(f"\n{len(lost)} runs taken by the killed worker; run {crashed[0]} marked crashed "
          f"{time.monotonic() - killed_at:.0f} s after SIGKILL")
    # the parent does not wait forever on children the dead worker took (running or only
    # claimed): it fails in one line naming them and the reconcile that finishes them
    parent = cluster.server.wait_final(run_id, timeout=600)
    children = cluster.server.api("POST", "/flow_runs/filter", json={
        "flow_runs": {"parent_flow_run_id": {"any_": [run_id]}}})
    seen = [(c["id"], c["state"]["type"], c["id"] in lost) for c in children]
    assert parent["state"]["type"] == "FAILED", (parent["state"], seen, doomed, cluster.logs())
    message = parent["state"]["message"] or ""
    assert "\n" not in message and "không hoàn thành" in message, message
    assert "reconcile-cascades" in message, message
    print(f"parent failed {time.monotonic() - killed_at:.0f} s after SIGKILL: {message}")
    assert len(children) == len(range(0, len(roots), 4))
    left = {c["id"]: c["state"]["type"] for c in children if c["id"] in lost}
    assert left and all(t in {"COMPLETED", "CRASHED"} for t in left.values()), left
    print(f"before the reconcile: {tree_counts(cluster.engine, roots)['missing']} sub-plans "
          "missing")

    reconcile = cluster.server.wait_final(cluster.run("reconcile-cascades", {}), timeout=600)
    assert reconcile["state"]["type"] == "COMPLETED", (reconcile["state"], cluster.logs())
    counts = tree_counts(cluster.engine, roots)
    assert (counts["missing"], counts["duplicate_plans"], counts["duplicate_requests"]) == (0, 0, 0)
    print(f"reconcile finished the tree {time.monotonic() - killed_at:.0f} s after SIGKILL "
          f"({time.monotonic() - started:.0f} s in all)")
