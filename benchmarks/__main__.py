"""``make bench``: the plan cycle at national scale (63 provinces, three tiers) on a SQLite file
in a temporary folder, each timed step beside its floor measured in the same run.

Steps measured (wall clock, Prefect included where a flow runs):
- cascade: the product's ``cascade-many`` flow over the 63 province plans (median of 3 runs,
  the database restored between runs);
- issue: every sub-plan through ``services.plans.issue_plan`` (guards, requests issued with
  ``fire_many``, messages queued);
- submit: every six-month report through ``services.reporting.submit_report``;
- fire_many: every issued annual request acknowledged in one ``fire_many`` call;
- aggregate: the six-month period of every province with the product's ``aggregate-many``
  flow: one task, each level of the 63 trees compiled at once (median of 3 runs, restored
  between runs).

The floor of a step is the same row changes written with raw DB-API ``executemany`` in one
transaction on a copy of the database taken before the step (benchmarks/floor.py).
"""

from __future__ import annotations

import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from benchmarks.floor import Changes, copy_database, restore

FOLDER = Path(tempfile.mkdtemp(prefix="planflow-bench-"))
DATABASE = FOLDER / "bench.db"
# before planflow or Prefect is imported: their state stays in the temporary folder
os.environ["PREFECT_HOME"] = str(FOLDER / "prefect")
os.environ["PLANFLOW_DATA_DIR"] = str(FOLDER / "data")
os.environ["PLANFLOW_DATABASE_URL"] = f"sqlite:///{DATABASE}"
os.environ["PLANFLOW_CHANNELS"] = "file"
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")

from sqlalchemy import text  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from planflow.config.db import create_schema, get_engine, session_scope  # noqa: E402
from planflow.flows.plans import cascade_many_flow  # noqa: E402
from planflow.flows.reports import aggregate_many_flow  # noqa: E402
from planflow.flows.runtime import local_mode, prefect_env_defaults  # noqa: E402
from planflow.models import (  # noqa: E402
    Assignment,
    OrgUnit,
    Plan,
    PlanDeadline,
    ReportKind,
    ReportRequest,
    Role,
    State,
    UnitKind,
)
from planflow.models.base import pk  # noqa: E402
from planflow.services import hierarchy  # noqa: E402
from planflow.services.catalogue import load_indicators  # noqa: E402
from planflow.services.plans import issue_plan  # noqa: E402
from planflow.services.reporting import submit_report  # noqa: E402
from planflow.states import fire_many  # noqa: E402

PERIOD = "2025-H1"
ISSUED = date(2025, 1, 20)
SUB_PLANS_ISSUED = datetime(2025, 2, 10, 2, 0, tzinfo=UTC)
SUBMITTED = datetime(2025, 5, 20, 3, 0, tzinfo=UTC)
REPEATS = 3


@dataclass
class Step:
    name: str
    what: str
    walls: list[float] = field(default_factory=list)
    floors: list[float] = field(default_factory=list)
    rows: int = 0

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def floor(self) -> float:
        return statistics.median(self.floors)


def say(line: str) -> None:
    print(line, flush=True)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    memory = next(
        (
            int(line.split()[1]) / 1024**2
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0.0,
    )
    import prefect

    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.1f} GiB, Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version}, Prefect {prefect.__version__} in local mode, "
        f"load average {os.getloadavg()[0]:.1f} at the start"
    )


def measured(step: Step, run, *, restore_after: bool) -> None:
    """Run ``run`` once, timed; then the floor of the same changes; restore if asked."""
    before = FOLDER / "before.db"
    mirror = FOLDER / "mirror.db"
    get_engine().dispose()
    copy_database(DATABASE, before)
    started = time.perf_counter()
    run()
    step.walls.append(time.perf_counter() - started)
    get_engine().dispose()
    changes = Changes(before, DATABASE)
    copy_database(before, mirror)
    step.floors.append(changes.replay(mirror))
    step.rows = changes.rows
    if restore_after:
        get_engine().dispose()
        restore(before, DATABASE)
    say(
        f"  {step.name}: {step.walls[-1]:.2f} s (floor {step.floors[-1]:.2f} s, "
        f"{changes.rows:,} rows changed)"
    )


# --- the data (not timed) ----------------------------------------------------------------------


def province_plans() -> list[int]:
    """One issued plan per province: its labour department as standing agency, the department
    and every district committee assigned, a six-month and an annual report line."""
    with session_scope() as session:
        provinces = hierarchy.loaded_provinces(session, 3)
        plan_ids = []
        for n, province in enumerate(provinces, start=1):
            labour = session.exec(
                select(OrgUnit).where(
                    col(OrgUnit.parent_id) == province.id, col(OrgUnit.role_key) == "labour"
                )
            ).one()
            plan = Plan(
                number=f"{n}/KH-UBND",
                year=2025,
                issued_on=ISSUED,
                title=f"Kế hoạch thực hiện công tác bình đẳng giới năm 2025 ({province.name})",
                signer_name="Chủ tịch (dữ liệu đo)",
                issuer_id=pk(province),
                standing_agency_id=pk(labour),
            )
            session.add(plan)
            session.flush()
            units = [labour, *hierarchy.child_committees(session, pk(province))]
            for position, unit in enumerate(units):
                session.add(
                    Assignment(
                        plan_id=pk(plan),
                        unit_id=pk(unit),
                        role=Role.lead,
                        position=position,
                        duties="Triển khai kế hoạch.",
                    )
                )
            for kind, period, due in (
                (ReportKind.six_month, PERIOD, date(2025, 5, 30)),
                (ReportKind.annual, "2025", date(2025, 11, 30)),
            ):
                session.add(
                    PlanDeadline(
                        plan_id=pk(plan),
                        kind=kind,
                        period=period,
                        due_on=due,
                        recipient_id=pk(labour),
                    )
                )
            session.flush()
            issue_plan(
                session=session,
                plan_id=pk(plan),
                actor="Sở LĐTBXH",
                at=datetime(2025, 1, 20, 2, 0, tzinfo=UTC),
            )
            plan_ids.append(pk(plan))
    return plan_ids


def figures(rng: random.Random, committee: bool) -> dict[str, dict[str, int]]:
    def by_sex(lo: int, hi: int) -> dict[str, int]:
        female, male = rng.randint(lo, hi), rng.randint(lo // 2, hi // 2)
        return {"female": female, "male": male, "total": female + male}

    out = {
        "HD-TT-SK": {"total": rng.randint(0, 6)},
        "HD-TT-NG": by_sex(20, 240),
        "HD-TH-LOP": {"total": rng.randint(0, 2)},
        "HD-TH-HV": by_sex(0, 60),
    }
    if committee:
        detected, workers = rng.randint(0, 5), rng.randint(400, 5000)
        out |= {
            "HD-BL-PH": {"total": detected},
            "NQ28-3.2": {"numerator": rng.randint(0, detected), "denominator": detected},
            "NQ28-2.1": {"numerator": workers // 2, "denominator": workers},
            "HD-LD": by_sex(2, 8),
        }
    return out


# --- the steps -----------------------------------------------------------------------------------


def issue_sub_plans() -> None:
    with session_scope() as session:
        drafted = session.exec(
            select(col(Plan.id))
            .where(col(Plan.status) == State.drafted)
            .order_by(col(Plan.depth), col(Plan.id))
        ).all()
        for plan_id in drafted:
            assert plan_id is not None
            issue_plan(
                session=session, plan_id=plan_id, actor="UBND (dữ liệu đo)", at=SUB_PLANS_ISSUED
            )


def submit_six_month() -> None:
    rng = random.Random(2025)
    with session_scope() as session:
        rows = session.exec(
            select(col(ReportRequest.id), col(OrgUnit.kind))
            .join(OrgUnit, col(OrgUnit.id) == col(ReportRequest.unit_id))
            .where(
                col(ReportRequest.kind) == ReportKind.six_month,
                col(ReportRequest.status) == State.issued,
            )
            .order_by(col(ReportRequest.id))
        ).all()
        for request_id, kind in rows:
            assert request_id is not None
            submit_report(
                session=session,
                request_id=request_id,
                figures=figures(rng, kind == UnitKind.committee),
                actor="đơn vị (dữ liệu đo)",
                at=SUBMITTED,
            )


def acknowledge_annual() -> None:
    with session_scope() as session:
        ids = session.exec(
            select(col(ReportRequest.id)).where(
                col(ReportRequest.kind) == ReportKind.annual,
                col(ReportRequest.status) == State.issued,
            )
        ).all()
        fire_many(
            session,
            ReportRequest,
            [i for i in ids if i is not None],
            "acknowledge",
            actor="đơn vị (dữ liệu đo)",
        )


def main() -> None:
    prefect_env_defaults()
    say(f"planflow benchmark in {FOLDER}")
    say(f"machine: {machine()}")
    started = time.perf_counter()
    engine = get_engine()
    create_schema(engine)
    with session_scope() as session:
        hierarchy.load_units(session=session, province="all", tiers=3)
        load_indicators(session=session)
    roots = province_plans()
    with session_scope() as session:
        units = session.scalar(text("SELECT count(*) FROM org_unit"))
    say(
        f"data: {units:,} units, {len(roots)} province plans issued "
        f"({time.perf_counter() - started:.0f} s, not timed)"
    )
    steps: list[Step] = []
    with local_mode():
        t = time.perf_counter()
        cascade_many_flow([])  # Prefect's one-time local start, measured apart
        say(f"Prefect local start (excluded): {time.perf_counter() - t:.1f} s")

        cascade = Step("cascade", "cascade-many flow, 63 province plans in one task")
        for n in range(REPEATS):
            measured(cascade, lambda: cascade_many_flow(roots), restore_after=n < REPEATS - 1)
        steps.append(cascade)
        with session_scope() as session:
            session.execute(
                text(
                    "UPDATE plan SET number = 'KH-' || id, issued_on = '2025-02-10', "
                    "signer_name = 'Lãnh đạo (dữ liệu đo)' WHERE status = 'drafted'"
                )
            )
        for step, run in (
            (Step("issue", "issue_plan for every sub-plan"), issue_sub_plans),
            (Step("submit", "submit_report for every six-month request"), submit_six_month),
            (Step("fire_many", "acknowledge every issued annual request"), acknowledge_annual),
        ):
            measured(step, run, restore_after=False)
            steps.append(step)
        aggregate = Step("aggregate", "six-month period, aggregate-many flow, 63 province plans")
        for n in range(REPEATS):
            measured(
                aggregate,
                lambda: aggregate_many_flow(roots, ReportKind.six_month, PERIOD, "Sở LĐTBXH"),
                restore_after=n < REPEATS - 1,
            )
        steps.append(aggregate)
    report(steps)


def report(steps: list[Step]) -> None:
    say("")
    say("| step | what | wall | floor | × floor | rows changed |")
    say("|---|---|---|---|---|---|")
    for s in steps:
        runs = f" (median of {len(s.walls)})" if len(s.walls) > 1 else ""
        say(
            f"| {s.name} | {s.what}{runs} | {s.wall:.2f} s | {s.floor:.2f} s | "
            f"{s.wall / s.floor:.1f} | {s.rows:,} |"
        )
    by = {s.name: s for s in steps}
    agg, cas = by["aggregate"], by["cascade"]
    say("")
    say(
        f"targets: aggregate < 1.5 s: {'met' if agg.wall < 1.5 else 'MISSED'} ({agg.wall:.2f} s); "
        f"aggregate ≤ 3× floor: {'met' if agg.wall <= 3 * agg.floor else 'MISSED'} "
        f"({agg.wall / agg.floor:.1f}×); cascade ≤ 3× floor: "
        f"{'met' if cas.wall <= 3 * cas.floor else 'MISSED'} ({cas.wall / cas.floor:.1f}×)"
    )


if __name__ == "__main__":
    main()
