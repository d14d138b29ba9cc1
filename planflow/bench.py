"""`planflow bench`: the plan cycle at national and Hà Nội scale, timed against a raw-write floor.

A benchmark, not a test: nothing asserts a time. Each scale runs on a fresh database (a SQLite
file in a temporary folder, or a throw-away schema of ``--database-url``). After every step the
rows it wrote are replayed with plain DB-API ``executemany`` into a mirror database of the same
schema and contents: that replay is the step's *floor*, what writing those rows costs with no
planflow or Prefect code in the way. Everything the bench makes up is labelled as bench data.
"""

from __future__ import annotations

import os
import platform
import random
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_client, task
from prefect.cache_policies import NONE
from sqlalchemy import bindparam, exists, func, insert, or_, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, select

from planflow.config.hierarchy_data import area_of
from planflow.flows.plans import cascade_plan_flow
from planflow.flows.reports import aggregate_period_flow
from planflow.flows.runtime import db_task, unit_of_work
from planflow.models import (
    Assignment,
    IndicatorValue,
    Level,
    OrgUnit,
    Plan,
    PlanDeadline,
    PlanSection,
    Report,
    ReportKind,
    ReportRequest,
    State,
    TransitionLog,
    UnitKind,
)
from planflow.models.time import end_of_local_day
from planflow.services import hierarchy
from planflow.services.aggregation import aggregate_period
from planflow.services.cascade import cascade_plan, sub_plan_deadline
from planflow.services.catalogue import indicators, load_indicators
from planflow.services.plans import ensure_requests, get_plan, issue_plan
from planflow.services.reporting import submit_report, validate_figures
from planflow.services.sweep import OPEN, mark_overdue
from planflow.states import fire_many

PERIOD = "2025-H1"
ISSUED_ON = date(2025, 1, 20)
SUB_PLANS_ISSUED_ON = date(2025, 2, 14)
SWEEP_DAY = date(2025, 12, 31)
SWEEP_CASE = 100_000
SAMPLE = 200  # requests submitted one by one through submit_report, then rolled back
ACTOR = "planflow bench"
MUTABLE = ("plan", "report_request")  # tables whose rows steps update; the rest only grow

# Targets from issue 3 item 5: printed beside the figures, never asserted.
TARGETS = {
    "cascade-national": (15.0, 3.0, "< 15 s incl. Prefect and ≤ 3× floor"),
    "aggregate-national": (2.0, None, "< 2 s for 10,000 ward reports"),
    "sweep-100k": (1.0, None, "< 1 s over ~100,000 requests"),
}
NAIVE_TARGET = 10.0


# -- the record ----------------------------------------------------------------------------


@dataclass
class Step:
    """One timed step of one scale: wall time, rows written and the floor of writing them."""

    scale: str
    name: str
    wall: float
    setup: bool = False
    cpu: float = 0.0
    service: float | None = None
    end_to_end: float | None = None
    floor: float | None = None
    rows: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # before, after, +, ~
    note: str = ""
    target: str = ""
    met: bool | None = None

    @property
    def written(self) -> int:
        return sum(ins + upd for _, _, ins, upd in self.rows.values())

    @property
    def ratio(self) -> float | None:
        return self.wall / self.floor if self.floor else None


@dataclass
class BenchReport:
    facts: dict[str, str]
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    empty_flow: float = 0.0  # wall of an empty flow run: what a capped run does not scale


def machine_facts(engine: Engine) -> dict[str, str]:
    """Cores, RAM, Python, the database and Prefect versions: what the figures depend on."""
    import prefect
    import sqlalchemy

    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo") if "model name" in line),
        platform.processor() or "?",
    )
    with engine.connect() as conn:
        server = (
            f"SQLite {conn.exec_driver_sql('select sqlite_version()').scalar()}"
            if engine.dialect.name == "sqlite"
            else f"PostgreSQL {conn.exec_driver_sql('show server_version').scalar()}"
        )
    return {
        "cpu": f"{os.cpu_count()} cores, {cpu}",
        "ram": f"{ram:.1f} GiB",
        "python": platform.python_version(),
        "database": f"{engine.dialect.name} {server}"
        + (f" (Python's sqlite3 module: {sqlite3.sqlite_version})" if "SQLite" in server else ""),
        "prefect": f"{prefect.__version__} ({os.environ.get('PREFECT_API_URL') or 'local mode'})",
        "sqlalchemy": sqlalchemy.__version__,
        "load average at start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def _read(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


# -- databases and the mirror that gives the floor -----------------------------------------


@dataclass
class Database:
    """A fresh planflow database: what the flows use (through the settings) and its mirror."""

    engine: Engine
    mirror: Engine


class Scratch:
    """The bench's databases: SQLite files in ``folder``, or schemas of ``base_url`` (PostgreSQL)
    that ``close`` drops, whatever happened."""

    def __init__(self, folder: Path, base_url: str | None) -> None:
        self.folder, self.base_url = folder, base_url
        self.schemas: list[str] = []
        self.engines: list[Engine] = []
        self.opened = 0

    def _url(self, name: str) -> str:
        from planflow.config.db import get_engine

        if not self.base_url:
            return f"sqlite:///{self.folder / f'{name}.db'}"
        schema = f"planflow_bench_{time.time_ns()}_{name}".replace("-", "_")
        with get_engine(self.base_url).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.schemas.append(schema)
        sep = "&" if "?" in self.base_url else "?"
        return f"{self.base_url}{sep}options=-csearch_path%3D{schema}"

    def open(self, name: str) -> Database:
        """A fresh database made the flows' default, with an empty mirror beside it."""
        from planflow.config.db import create_schema, get_engine
        from planflow.config.settings import get_settings

        self.opened += 1
        name = f"{self.opened}-{name}"  # a fresh file each time, whatever the name
        url, mirror_url = self._url(name), self._url(f"{name}-mirror")
        os.environ["PLANFLOW_DATABASE_URL"] = url
        get_settings.cache_clear()
        get_engine.cache_clear()
        db = Database(get_engine(), get_engine(mirror_url))
        self.engines += [db.engine, db.mirror]
        create_schema(db.engine)
        create_schema(db.mirror)
        return db

    def close(self) -> None:
        from planflow.config.db import get_engine

        for engine in self.engines:
            engine.dispose()
        if self.schemas:
            with get_engine(self.base_url).begin() as conn:
                for schema in self.schemas:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            get_engine(self.base_url).dispose()


def _q(name: str) -> str:
    return f'"{name}"'


class Mirror:
    """Replays each step's row changes into the mirror with raw ``executemany``: the floor."""

    def __init__(self, db: Database, mutable: tuple[str, ...] = MUTABLE) -> None:
        self.db = db
        self.mutable = mutable
        self.mark_ = "?" if db.engine.dialect.paramstyle == "qmark" else "%s"
        self.tables = list(SQLModel.metadata.sorted_tables)  # parents before children

    def _pk(self, table) -> str | None:
        cols = list(table.primary_key.columns)
        return cols[0].name if len(cols) == 1 and cols[0].type.python_type is int else None

    @staticmethod
    def _columns(table) -> str:
        """The model's column order (a migration adds columns at the end of the real table)."""
        return ", ".join(_q(c.name) for c in table.columns)

    @staticmethod
    def _at(table, column: str) -> int:
        return [c.name for c in table.columns].index(column)

    def snapshot(self) -> dict[str, Any]:
        """Counts, highest ids, and full copies of the tables whose rows change."""
        state: dict[str, Any] = {"count": {}, "max": {}, "rows": {}}
        with self.db.engine.connect() as conn:
            cur = conn.connection.driver_connection.cursor()
            for table in self.tables:
                name, pk = table.name, self._pk(table)
                cur.execute(f"SELECT count(*) FROM {_q(name)}")
                state["count"][name] = cur.fetchone()[0]
                if pk:
                    cur.execute(f"SELECT max({_q(pk)}) FROM {_q(name)}")
                    state["max"][name] = cur.fetchone()[0] or 0
                if name in self.mutable or not pk:
                    keys = [self._at(table, c.name) for c in table.primary_key.columns]
                    order = ", ".join(_q(c.name) for c in table.primary_key.columns)
                    cur.execute(f"SELECT {self._columns(table)} FROM {_q(name)} ORDER BY {order}")
                    state["rows"][name] = {
                        tuple(r[k] for k in keys): tuple(r) for r in cur.fetchall()
                    }
        return state

    def replay(self, before: dict[str, Any]) -> tuple[float, dict[str, tuple[int, int, int, int]]]:
        """Write what changed since ``before`` into the mirror, timed; (floor s, rows per table)."""
        after = self.snapshot()
        inserts: dict[str, list[tuple]] = {}
        updates: dict[str, list[tuple]] = {}
        deletes: dict[str, list[tuple]] = {}
        with self.db.engine.connect() as conn:
            cur = conn.connection.driver_connection.cursor()
            for table in self.tables:
                name, pk = table.name, self._pk(table)
                if name in after["rows"]:
                    old, new = before["rows"][name], after["rows"][name]
                    inserts[name] = [row for key, row in new.items() if key not in old]
                    updates[name] = [
                        row for key, row in new.items() if key in old and old[key] != row
                    ]
                    deletes[name] = [key for key in old if key not in new]
                elif after["max"][name] > before["max"][name]:
                    cur.execute(
                        f"SELECT {self._columns(table)} FROM {_q(name)} "
                        f"WHERE {_q(pk)} > {self.mark_} ORDER BY {_q(pk)}",
                        (before["max"][name],),
                    )
                    inserts[name] = [tuple(r) for r in cur.fetchall()]
        if self.db.engine.dialect.name != "sqlite":  # psycopg returns JSON as Python objects
            from psycopg.types.json import Json

            def adapt(rows: list[tuple]) -> list[tuple]:
                return [
                    tuple(Json(v) if isinstance(v, dict | list) else v for v in r) for r in rows
                ]

            inserts = {k: adapt(v) for k, v in inserts.items()}
            updates = {k: adapt(v) for k, v in updates.items()}
        started = time.perf_counter()
        with self.db.mirror.connect() as conn:
            raw = conn.connection.driver_connection
            cur = raw.cursor()
            for table in self.tables:
                cols = [c.name for c in table.columns]
                marks = ", ".join([self.mark_] * len(cols))
                if inserts.get(table.name):
                    names = ", ".join(map(_q, cols))
                    cur.executemany(
                        f"INSERT INTO {_q(table.name)} ({names}) VALUES ({marks})",
                        inserts[table.name],
                    )
                if updates.get(table.name):
                    pk = self._pk(table)
                    sets = ", ".join(f"{_q(c)} = {self.mark_}" for c in cols if c != pk)
                    at = cols.index(pk)
                    cur.executemany(
                        f"UPDATE {_q(table.name)} SET {sets} WHERE {_q(pk)} = {self.mark_}",
                        [row[:at] + row[at + 1 :] + (row[at],) for row in updates[table.name]],
                    )
            for table in reversed(self.tables):
                if deletes.get(table.name):
                    pks = [c.name for c in table.primary_key.columns]
                    where = " AND ".join(f"{_q(c)} = {self.mark_}" for c in pks)
                    cur.executemany(
                        f"DELETE FROM {_q(table.name)} WHERE {where}", deletes[table.name]
                    )
            raw.commit()
        floor = time.perf_counter() - started
        self._verify(after["count"])
        rows = {}
        for table in self.tables:
            name = table.name
            ins, upd = len(inserts.get(name, ())), len(updates.get(name, ()))
            if ins or upd or before["count"][name] != after["count"][name]:
                rows[name] = (before["count"][name], after["count"][name], ins, upd)
        return floor, rows

    def _verify(self, counts: dict[str, int]) -> None:
        with self.db.mirror.connect() as conn:
            for name, n in counts.items():
                got = conn.exec_driver_sql(f"SELECT count(*) FROM {_q(name)}").scalar()
                if got != n:
                    raise RuntimeError(f"bench mirror out of step: {name} has {got} rows, not {n}")


class Recorder:
    """Times steps of one scale and replays each into the mirror for its floor."""

    def __init__(self, scale: str, db: Database, report: BenchReport, say: Callable[[str], None]):
        self.scale, self.db, self.report, self.say = scale, db, report, say
        self.mirror = Mirror(db)

    @contextmanager
    def step(
        self, name: str, *, setup: bool = False, target: str = "", record: bool = True
    ) -> Iterator[Step]:
        self.say(f"[{self.scale}] {name} …")
        before = self.mirror.snapshot()
        step = Step(scale=self.scale, name=name, wall=0.0, setup=setup)
        started, cpu = time.perf_counter(), time.process_time()
        yield step
        step.wall = step.wall or time.perf_counter() - started
        step.cpu = time.process_time() - cpu
        step.floor, step.rows = self.mirror.replay(before)
        if target in TARGETS:
            limit, ratio, step.target = TARGETS[target]
            step.met = (limit is None or step.wall < limit) and (
                ratio is None or (step.ratio or 0) <= ratio
            )
        if record:
            self.report.steps.append(step)
        self.say(f"[{self.scale}] {name}: {step.wall:.2f} s, floor {step.floor:.2f} s")


# -- Prefect: timing flows, start-up, end to end --------------------------------------------


def run_flow(fn, *args, **kwargs) -> tuple[Any, float, str]:
    """Call a flow; (its result, wall seconds, flow run id)."""
    started = time.perf_counter()
    state = fn(*args, return_state=True, **kwargs)
    wall = time.perf_counter() - started
    return state.result(), wall, str(state.state_details.flow_run_id)


def recorded(flow_run_id: str, tasks: int, started: float, timeout: float = 240.0) -> float | None:
    """Seconds from ``started`` until Prefect's server has every task run as completed."""
    body = {
        "flow_runs": {"id": {"any_": [flow_run_id]}},
        "task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
    }
    with get_client(sync_client=True) as client:  # the client has no count call of its own
        while time.perf_counter() - started < timeout:
            if client._client.post("/task_runs/count", json=body).json() >= tasks:
                return time.perf_counter() - started
            time.sleep(0.2)
    return None


@flow(name="bench-warm-up")
def warm_up_flow() -> int:
    """Nothing: the first flow run of a process starts Prefect's local server."""
    return 0


# -- the data: plans, issue, submissions, extra periods ------------------------------------


def load(session: Session, province: str) -> None:
    hierarchy.load_units(session=session, province=province, tiers=3)
    load_indicators(session=session)


def import_template(session: Session) -> int:
    """The Hà Nội 2025 draft (shipped sample), imported: the content of every province plan."""
    from planflow.documents.reading.importer import import_plan, save_plan
    from planflow.samples import HANOI_2025_DRAFT, sample_path

    imported = import_plan(session=session, text_or_path=sample_path(HANOI_2025_DRAFT), tiers=3)
    return save_plan(session=session, imported=imported).id


def province_plans(session: Session, template_id: int) -> list[int]:
    """One plan per loaded province: the template re-addressed to that province's committee,
    departments (matched by role) and districts. Numbers, dates and signers are bench data."""
    template = get_plan(session, template_id)
    sections = session.exec(select(PlanSection).where(PlanSection.plan_id == template_id)).all()
    lines = session.exec(select(PlanDeadline).where(PlanDeadline.plan_id == template_id)).all()
    assignments = session.exec(
        select(Assignment, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Assignment.unit_id)
        .where(Assignment.plan_id == template_id)
        .order_by(Assignment.position)
    ).all()
    district_duty = next(a for a, u in assignments if u.kind == UnitKind.committee)
    provinces = hierarchy.loaded_provinces(session, 3)
    ids = {p.id for p in provinces}
    by_role = {
        (u.parent_id, u.role_key): u
        for u in session.exec(
            select(OrgUnit).where(OrgUnit.depth == 1, OrgUnit.role_key.is_not(None))
        )
        if u.parent_id in ids
    }
    districts: dict[int, list[OrgUnit]] = defaultdict(list)
    for unit in session.exec(
        select(OrgUnit)
        .where(OrgUnit.kind == UnitKind.committee, OrgUnit.depth == 1)
        .order_by(OrgUnit.code)
    ):
        districts[unit.parent_id].append(unit)
    template_area = area_of(session.get(OrgUnit, template.issuer_id).name, Level.province).area
    plan_ids = []
    for n, province in enumerate(provinces, start=1):
        plan = template
        if province.id != template.issuer_id:
            area = area_of(province.name, Level.province).area
            fields = template.model_dump(
                exclude={
                    "id",
                    "issuer_id",
                    "standing_agency_id",
                    "created_at",
                    "status",
                    "version",
                },
                warnings=False,
            )
            for key in ("title", "preamble", "closing", "place"):
                fields[key] = (fields[key] or "").replace(template_area, area) or None
            labour = by_role[(province.id, "labour")]
            plan = Plan(**fields, issuer_id=province.id, standing_agency_id=labour.id)
            session.add(plan)
            session.flush()
            for s in sections:
                session.add(
                    PlanSection(
                        **s.model_dump(exclude={"id", "plan_id"}, warnings=False), plan_id=plan.id
                    )
                )
            position = 0
            for a, unit in assignments:
                target = by_role.get((province.id, unit.role_key)) if unit.role_key else None
                if target is None:
                    continue
                session.add(
                    Assignment(
                        **a.model_dump(
                            exclude={"id", "plan_id", "unit_id", "position"}, warnings=False
                        ),
                        plan_id=plan.id,
                        unit_id=target.id,
                        position=position,
                    )
                )
                position += 1
            for district in districts[province.id]:
                session.add(
                    Assignment(
                        plan_id=plan.id,
                        unit_id=district.id,
                        position=position,
                        role=district_duty.role,
                        duties=district_duty.duties,
                        group_label=district_duty.group_label,
                    )
                )
                position += 1
            for line in lines:
                session.add(
                    PlanDeadline(
                        plan_id=plan.id,
                        kind=line.kind,
                        period=line.period,
                        due_on=line.due_on,
                        recipient_id=labour.id,
                    )
                )
        plan.number, plan.issued_on = f"{n}/KH-UBND", ISSUED_ON
        plan.signer_name = plan.signer_name or f"Chủ tịch UBND {province.name} (bench)"
        session.add(plan)
        plan_ids.append(plan.id)
    session.flush()
    return plan_ids


def issue_all(session: Session, plan_ids: list[int]) -> int:
    """Issue the root plans through the service (guards, requests, 'plan issued' messages)."""
    at = datetime.combine(ISSUED_ON, datetime.min.time(), tzinfo=UTC)
    return sum(
        issue_plan(session=session, plan_id=pid, actor="Sở LĐTBXH", at=at).requests_issued
        for pid in plan_ids
    )


def issue_sub_plans(session: Session, root_ids: list[int]) -> tuple[int, int, int]:
    """Issue every drafted sub-plan level by level with set-based SQL: the plan guards checked
    as sets (parent issued, an assignment), audit rows, requests issued by ``fire_many``.
    No 'plan issued' messages are queued (bench). Returns (plans issued, skipped, requests)."""
    at = datetime.combine(SUB_PLANS_ISSUED_ON, datetime.min.time(), tzinfo=UTC)
    parent = aliased(Plan)
    plan_t = Plan.__table__
    issued = requests = 0
    for depth in range(1, 10):
        rows = session.exec(
            select(Plan.id, OrgUnit.name)
            .join(OrgUnit, OrgUnit.id == Plan.issuer_id)
            .join(parent, parent.id == Plan.parent_id)
            .where(
                Plan.root_id.in_(root_ids),
                Plan.depth == depth,
                Plan.status == State.drafted,
                parent.status.in_([State.issued, State.acknowledged, State.submitted]),
                exists(select(Assignment.id).where(Assignment.plan_id == Plan.id)),
            )
            .order_by(Plan.id)
        ).all()
        if not rows:
            break
        session.execute(
            update(plan_t)
            .where(plan_t.c.id == bindparam("b_id"), plan_t.c.status == State.drafted)
            .values(
                number=bindparam("b_number"),
                issued_on=SUB_PLANS_ISSUED_ON,
                signer_name=bindparam("b_signer"),
                status=State.issued,
                version=plan_t.c.version + 1,
            ),
            [
                {
                    "b_id": pid,
                    "b_number": f"{n}/KH-UBND",
                    "b_signer": f"Chủ tịch UBND {name} (bench)",
                }
                for n, (pid, name) in enumerate(rows, start=1)
            ],
        )
        session.execute(
            insert(TransitionLog.__table__),
            [
                {
                    "entity": "plan",
                    "entity_id": pid,
                    "trigger": "issue",
                    "from_state": State.drafted,
                    "to_state": State.issued,
                    "actor": f"UBND {name}",
                    "reason": None,
                    "at": at,
                }
                for pid, name in rows
            ],
        )
        ids = [pid for pid, _ in rows]
        drafted = [
            rid
            for start in range(0, len(ids), 500)
            for rid in session.exec(
                select(ReportRequest.id).where(
                    ReportRequest.plan_id.in_(ids[start : start + 500]),
                    ReportRequest.status == State.drafted,
                )
            )
        ]
        requests += len(fire_many(session, ReportRequest, drafted, "issue", actor=ACTOR, at=at))
        issued += len(rows)
    skipped = (
        session.scalar(
            select(func.count())
            .select_from(Plan)
            .where(Plan.root_id.in_(root_ids), Plan.status == State.drafted)
        )
        or 0
    )
    return issued, skipped, requests


def figures(rng: random.Random) -> dict[str, dict[str, int]]:
    """Plausible figures for every indicator of the catalogue (the demo's committee figures:
    11 indicators, 22 numbers), whatever the unit's kind."""
    from types import SimpleNamespace

    from planflow.demo import _figures

    return _figures(rng, SimpleNamespace(kind=UnitKind.committee))


@dataclass(frozen=True)
class Submission:
    """What one unit sends for one request (simulated: seeded random, bench data)."""

    request_id: int
    figures: dict[str, dict[str, int]]
    at: datetime
    actor: str


def simulate(session: Session, root_ids: list[int]) -> list[Submission]:
    """A submission for every open six-month request of the trees: most a few days early, one
    in six 1–6 days late. Made before the timed step: it stands for the letters arriving."""
    from planflow.demo import local

    rows = session.exec(
        select(ReportRequest.id, ReportRequest.deadline, OrgUnit.name, OrgUnit.kind)
        .join(OrgUnit, OrgUnit.id == ReportRequest.unit_id)
        .join(Plan, Plan.id == ReportRequest.plan_id)
        .where(
            (Plan.root_id.in_(root_ids)) | (Plan.id.in_(root_ids)),
            ReportRequest.kind == ReportKind.six_month,
            ReportRequest.period == PERIOD,
            ReportRequest.status.in_(list(OPEN)),
        )
        .order_by(ReportRequest.id)
    ).all()
    out = []
    for rid, deadline, name, kind in rows:
        rng = random.Random(rid)
        late = rng.random() < 1 / 6
        shift = rng.randint(1, 6) if late else -rng.randint(0, 8)
        actor = f"UBND {name}" if kind == UnitKind.committee else name
        out.append(
            Submission(rid, figures(rng), local(deadline + timedelta(days=shift), 10), actor)
        )
    return out


def submit_one_by_one(engine: Engine, submissions: list[Submission]) -> float:
    """``submit_report`` for each of ``submissions``, then rolled back; returns seconds."""
    with Session(engine) as session:
        started = time.perf_counter()
        for sub in submissions:
            submit_report(
                session=session,
                request_id=sub.request_id,
                figures=sub.figures,
                actor=sub.actor,
                at=sub.at,
                narrative={"results": "Số liệu bench."},
            )
        seconds = time.perf_counter() - started
        session.rollback()
    return seconds


def submit_all(session: Session, submissions: list[Submission]) -> int:
    """Validate every submission (``validate_figures``) and write them set-based: Report and
    IndicatorValue rows by bulk insert, the 'submit' state change (late set against the
    deadline) by one executemany UPDATE plus its audit rows. Returns how many were late."""
    catalogue = indicators(session)
    requests = {}
    ids = [sub.request_id for sub in submissions]
    for start in range(0, len(ids), 2000):
        requests.update(
            (row[0], row)
            for row in session.exec(
                select(
                    ReportRequest.id,
                    ReportRequest.plan_id,
                    ReportRequest.unit_id,
                    ReportRequest.kind,
                    ReportRequest.period,
                    ReportRequest.status,
                    ReportRequest.deadline,
                ).where(
                    ReportRequest.id.in_(ids[start : start + 2000]),
                    ReportRequest.status.in_(list(OPEN)),
                )
            )
        )
    reports, values, moves, logs = [], {}, [], []
    now = datetime.now(UTC)
    for sub in submissions:
        rid, plan_id, unit_id, kind, period, status, deadline = requests[sub.request_id]
        clean, problems = validate_figures(sub.figures, catalogue)
        if problems:
            raise ValueError(f"bench figures refused: {problems}")
        values[rid] = clean
        reports.append(
            {
                "request_id": rid,
                "plan_id": plan_id,
                "unit_id": unit_id,
                "kind": kind,
                "period": period,
                "consolidated": False,
                "narrative": {"results": "Số liệu bench."},
                "completeness": {},
                "created_at": now,
                "updated_at": now,
            }
        )
        moves.append({"b_id": rid, "b_late": sub.at > end_of_local_day(deadline), "b_at": sub.at})
        logs.append(
            {
                "entity": "report_request",
                "entity_id": rid,
                "trigger": "submit",
                "from_state": status,
                "to_state": State.submitted,
                "actor": sub.actor,
                "reason": None,
                "at": sub.at,
            }
        )
    # Core, not ORM, inserts: the ORM drops None values and so batches only runs of rows with
    # the same non-None columns; a report's indicator rows alternate, so it sent one per row
    report_t, request_t = Report.__table__, ReportRequest.__table__
    by_request = {}
    for start in range(0, len(reports), 2000):
        by_request.update(
            session.execute(
                insert(report_t).returning(report_t.c.request_id, report_t.c.id),
                reports[start : start + 2000],
            ).all()
        )
    value_rows = [
        {
            "report_id": by_request[rid],
            "indicator_code": v.code,
            "male": v.male,
            "female": v.female,
            "total": v.total,
            "numerator": v.numerator,
            "denominator": v.denominator,
        }
        for rid, clean in values.items()
        for v in clean
    ]
    for start in range(0, len(value_rows), 5000):
        session.execute(insert(IndicatorValue.__table__), value_rows[start : start + 5000])
    session.execute(
        update(request_t)
        .where(
            request_t.c.id == bindparam("b_id"),
            or_(*(request_t.c.status == state for state in OPEN)),
        )  # no IN in executemany
        .values(
            status=State.submitted,
            version=request_t.c.version + 1,
            late=bindparam("b_late"),
            submitted_at=bindparam("b_at"),
        ),
        moves,
    )
    for start in range(0, len(logs), 5000):
        session.execute(insert(TransitionLog.__table__), logs[start : start + 5000])
    return sum(m["b_late"] for m in moves)


def add_periods(session: Session, root_ids: list[int], wanted: int) -> tuple[int, int]:
    """Quarterly ad-hoc reports (2025-Q1…) in every plan's regime until the requests reach
    ``wanted``: regime lines derived level by level like the cascade's, requests created by
    ``ensure_requests`` and issued by ``fire_many``. Returns (periods added, requests)."""
    plans = session.exec(
        select(Plan.id, Plan.depth, Plan.standing_agency_id).where(
            (Plan.root_id.in_(root_ids)) | (Plan.id.in_(root_ids))
        )
    ).all()
    have = session.scalar(select(func.count()).select_from(ReportRequest)) or 0
    per_period = (
        session.scalar(
            select(func.count())
            .select_from(ReportRequest)
            .where(ReportRequest.kind == ReportKind.six_month)
        )
        or 1
    )
    quarters = [(f"2025-Q{q}", date(2025 + q // 4, 3 * q % 12 + 1, 20)) for q in range(1, 5)]
    added = 0
    for period, due in quarters:
        if have >= wanted:
            break
        lines = []
        for pid, depth, agency in plans:
            own, upward = (
                (due, None) if depth == 0 else sub_plan_deadline(ReportKind.ad_hoc, due, depth)
            )
            lines.append(
                {
                    "plan_id": pid,
                    "kind": ReportKind.ad_hoc,
                    "period": period,
                    "due_on": own,
                    "upward_due_on": upward,
                    "recipient_id": agency,
                }
            )
        session.execute(insert(PlanDeadline), lines)
        added += 1
        have += per_period
    ids = [p[0] for p in plans]
    created = sum(ensure_requests(session, ids[s : s + 500]) for s in range(0, len(ids), 500))
    drafted = list(
        session.exec(
            select(ReportRequest.id).where(
                ReportRequest.status == State.drafted, ReportRequest.kind == ReportKind.ad_hoc
            )
        )
    )
    fire_many(session, ReportRequest, drafted, "issue", actor=ACTOR)
    return added, created


# -- flows: the batched national ones and the naive per-unit one ---------------------------


@db_task
def cascade_province(plan_id: int) -> dict:
    """One province's whole subtree in one transaction; returns counts and service seconds."""
    started = time.perf_counter()
    with unit_of_work() as session:
        r = cascade_plan(session=session, plan_id=plan_id)
    return {
        "created": r.created,
        "requests": r.requests_created,
        "seconds": time.perf_counter() - started,
    }


@flow(name="bench-cascade-national")
def cascade_national_flow(plan_ids: list[int]) -> dict:
    """Cascade every province plan: one task per province (63 tasks for the national tree)."""
    parts = [cascade_province(pid) for pid in plan_ids]
    return {key: sum(p[key] for p in parts) for key in ("created", "requests", "seconds")}


@db_task
def aggregate_province(plan_id: int, kind: ReportKind, period: str) -> dict:
    started = time.perf_counter()
    with unit_of_work() as session:
        r = aggregate_period(
            session=session, plan_id=plan_id, kind=kind, period=period, actor="Sở LĐTBXH"
        )
    return {
        "nodes": len(r.nodes),
        "aggregated": r.aggregated,
        "values": r.values_written,
        "seconds": time.perf_counter() - started,
    }


@flow(name="bench-aggregate-national")
def aggregate_national_flow(plan_ids: list[int], kind: ReportKind, period: str) -> dict:
    """Aggregate one period of every province tree, ward → district → province: one task each."""
    parts = [aggregate_province(pid, kind, period) for pid in plan_ids]
    return {key: sum(p[key] for p in parts) for key in ("nodes", "aggregated", "values", "seconds")}


def one_sub_plan(session: Session, parent_id: int, unit_id: int) -> int:
    """Create the sub-plan of one committee under ``parent_id``, nothing below it: the unit of
    work of the naive design. Uses the cascade's own building blocks, so only the batching
    differs from the batched design."""
    from planflow.services.cascade import TreeIndex, _create_sub_plans, _root_deadlines

    parent = get_plan(session, parent_id)
    tree = TreeIndex(session, session.get(OrgUnit, parent.issuer_id))
    created, _ = _create_sub_plans(
        session, tree, [(parent, tree.units[unit_id])], _root_deadlines(session, parent.tree_id)
    )
    ensure_requests(session, [p.id for p in created])
    return created[0].id


@db_task
def naive_sub_plan(parent_id: int, unit_id: int) -> int:
    with unit_of_work() as session:
        return one_sub_plan(session, parent_id, unit_id)


@task(cache_policy=NONE)
def naive_targets(plan_id: int, districts: int) -> list[tuple[int, list[int]]]:
    """The first ``districts`` districts (0: all) of the plan's issuer, each with its wards."""
    with unit_of_work() as session:
        plan = get_plan(session, plan_id)
        found = hierarchy.child_committees(session, plan.issuer_id)
        found = found[:districts] if districts else found
        return [(d.id, [w.id for w in hierarchy.child_committees(session, d.id)]) for d in found]


@flow(name="bench-cascade-naive")
def naive_cascade_flow(plan_id: int, districts: int = 0) -> int:
    """The design DESIGN.md §7 warns against: one task per unit (district, then each ward)."""
    tasks = 0
    for district_id, ward_ids in naive_targets(plan_id, districts):
        district_plan = naive_sub_plan(plan_id, district_id)
        for ward_id in ward_ids:
            naive_sub_plan(district_plan, ward_id)
        tasks += 1 + len(ward_ids)
    return tasks


# -- one scale end to end ------------------------------------------------------------------


def run_scale(
    scale: str, scratch: Scratch, report: BenchReport, say: Callable[[str], None]
) -> None:
    """Load, plan, issue, cascade, issue sub-plans, submit, aggregate and sweep one scale."""
    national = scale == "national"
    db = scratch.open(scale)
    rec = Recorder(scale, db, report, say)
    with rec.step("load units + indicators", setup=True), Session(db.engine) as s:
        load(s, "all" if national else "Hà Nội")
        s.commit()
    with rec.step("import + build root plans", setup=True) as step, Session(db.engine) as s:
        roots = province_plans(s, import_template(s))
        s.commit()
        step.note = f"{len(roots)} plan(s): the Hà Nội 2025 draft re-addressed per province"
    with rec.step("issue root plans (issue_plan)", setup=True) as step, Session(db.engine) as s:
        step.note = f"{issue_all(s, roots)} requests issued"
        s.commit()
    if national:
        with rec.step("cascade (1 flow, 1 task/province)", target="cascade-national") as step:
            out, step.wall, fid = run_flow(cascade_national_flow, roots)
            step.end_to_end = recorded(fid, len(roots), time.perf_counter() - step.wall)
            step.service = out["seconds"]
            step.note = (
                f"{out['created']} sub-plans, {out['requests']} requests, {len(roots)} tasks"
            )
    else:
        with rec.step("cascade (cascade_plan_flow, default batching)") as step:
            out, step.wall, fid = run_flow(cascade_plan_flow, roots[0])
            step.end_to_end = recorded(fid, out.batches + 1, time.perf_counter() - step.wall)
            step.note = (
                f"{out.created} sub-plans, {out.requests_created} requests, {out.batches} tasks"
            )
    with rec.step("issue sub-plans (set-based)", setup=True) as step, Session(db.engine) as s:
        done, skipped, reqs = issue_sub_plans(s, roots)
        s.commit()
        step.note = f"{done} plans, {reqs} requests issued; {skipped} left drafted"
    with Session(db.engine) as s:
        submissions = simulate(s, roots)
    seconds = submit_one_by_one(db.engine, submissions[:SAMPLE])
    with rec.step("submit all six-month (set-based)") as step, Session(db.engine) as s:
        late = submit_all(s, submissions)
        s.commit()
        per = seconds / min(SAMPLE, len(submissions))
        step.note = (
            f"{len(submissions)} reports × 11 values, {late} late; submit_report one by "
            f"one: {per * 1000:.1f} ms each ({min(SAMPLE, len(submissions))} timed, "
            f"rolled back) ≈ {per * len(submissions):.0f} s for all"
        )
    if national:
        with rec.step(
            "aggregate H1 (1 flow, 1 task/province)", target="aggregate-national"
        ) as step:
            out, step.wall, fid = run_flow(
                aggregate_national_flow, roots, ReportKind.six_month, PERIOD
            )
            step.end_to_end = recorded(fid, len(roots), time.perf_counter() - step.wall)
            step.service = out["seconds"]
            with Session(db.engine) as s:
                wards = s.scalar(
                    select(func.count())
                    .select_from(ReportRequest)
                    .join(OrgUnit, OrgUnit.id == ReportRequest.unit_id)
                    .where(ReportRequest.status == State.aggregated, OrgUnit.level == Level.ward)
                )
            step.note = (
                f"{out['nodes']} compiled, {out['aggregated']} requests aggregated "
                f"({wards} of them ward reports)"
            )
    else:
        with rec.step("aggregate H1 (aggregate_period_flow)") as step:
            out, step.wall, fid = run_flow(
                aggregate_period_flow, roots[0], ReportKind.six_month, PERIOD, actor="Sở LĐTBXH"
            )
            with Session(db.engine) as s:
                children = (
                    s.scalar(
                        select(func.count()).select_from(Plan).where(Plan.parent_id == roots[0])
                    )
                    or 0
                )
            step.end_to_end = recorded(fid, children + 2, time.perf_counter() - step.wall)
            step.note = f"{out.compiled_units} compiled, {out.aggregated_requests} aggregated"
    with rec.step("daily sweep: mark_overdue") as step, Session(db.engine) as s:
        result = mark_overdue(session=s, today=SWEEP_DAY)
        s.commit()
        step.note = _sweep_note(s, result)
    if national:
        with (
            rec.step("build ~100k requests (ad-hoc quarters)", setup=True) as step,
            Session(db.engine) as s,
        ):
            added, created = add_periods(s, roots, SWEEP_CASE)
            s.commit()
            step.note = f"{added} quarterly periods, {created} requests added"
        for label in ("sweep ~100k requests", "sweep ~100k again (nothing new)"):
            with rec.step(label, target="sweep-100k") as step, Session(db.engine) as s:
                result = mark_overdue(session=s, today=SWEEP_DAY)
                s.commit()
                step.note = _sweep_note(s, result)
        say("[national] per-flow-run cost of cascade_plan_flow (re-run, nothing to create) …")
        runs = [run_flow(cascade_plan_flow, pid)[1] for pid in roots[:3]]
        per_flow = sum(runs) / len(runs)
        report.notes.append(
            f"cascade_plan_flow per province instead of one flow: {per_flow:.2f} s per flow run "
            f"(mean of {len(runs)} no-op re-runs, one task each) → +{per_flow * len(roots):.0f} s "
            f"for {len(roots)} provinces; one flow with one task per province was chosen."
        )


def _sweep_note(session: Session, result) -> str:
    total = session.scalar(select(func.count()).select_from(ReportRequest)) or 0
    return f"{total} requests, {result.newly_overdue} newly overdue, {result.overdue_total} overdue"


def run_cascade_again(
    scratch: Scratch,
    label: str,
    cascade: Callable[[int], tuple[int, float, str, str]],
    report: BenchReport,
    say: Callable[[str], None],
) -> None:
    """The Hà Nội cascade once more on a fresh database, the way ``cascade`` runs it: called
    with the city plan's id, it returns (tasks, wall seconds, flow run id, note)."""
    db = scratch.open("hanoi-again")
    rec = Recorder("hanoi", db, report, say)
    with rec.step("set up (not shown)", record=False), Session(db.engine) as s:
        load(s, "Hà Nội")
        roots = province_plans(s, import_template(s))
        issue_all(s, roots)
        s.commit()
    with rec.step(label) as step:
        tasks, step.wall, fid, step.note = cascade(roots[0])
        step.end_to_end = recorded(fid, tasks, time.perf_counter() - step.wall)


def per_district(plan_id: int) -> tuple[int, float, str, str]:
    """``cascade_plan_flow`` with one task per district subtree (``units_per_task=1``)."""
    out, wall, fid = run_flow(cascade_plan_flow, plan_id, units_per_task=1)
    return out.batches + 1, wall, fid, f"{out.created} sub-plans, {out.batches} task(s)"


def naive(districts: int) -> Callable[[int], tuple[int, float, str, str]]:
    """The naive flow, capped at the first ``districts`` districts (0: all)."""

    def run(plan_id: int) -> tuple[int, float, str, str]:
        tasks, wall, fid = run_flow(naive_cascade_flow, plan_id, districts)
        capped = f" (first {districts} districts)" if districts else ""
        return tasks + 1, wall, fid, f"{tasks} unit tasks{capped}"

    return run


def run_bench(
    *,
    scale: str,
    skip_naive: bool,
    database_url: str | None,
    folder: Path,
    naive_districts: int = 0,
    say: Callable[[str], None] = print,
) -> BenchReport:
    """Run the chosen scales (and the naive comparison) and return what was measured."""
    scratch = Scratch(folder, database_url)
    try:
        report = BenchReport(facts=machine_facts(scratch.open("probe").engine))
        warm_up(report, say)
        for name in ("national", "hanoi") if scale == "both" else (scale,):
            run_scale(name, scratch, report, say)
        if scale in ("hanoi", "both"):
            run_cascade_again(
                scratch, "cascade (cascade_plan_flow, 1 task/district)", per_district, report,
                say,
            )
        if not skip_naive and scale in ("hanoi", "both"):
            run_cascade_again(
                scratch, "cascade naive (1 task/unit)", naive(naive_districts), report, say
            )
    finally:
        scratch.close()
    report.notes[:0] = compare_naive(report)
    report.facts["load average at end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return report


def warm_up(report: BenchReport, say: Callable[[str], None]) -> None:
    """Start Prefect outside every step; measure the fixed cost of a flow run, heartbeats on
    and off."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    say("starting Prefect (the first flow run starts its local server) …")
    _, first, _ = run_flow(warm_up_flow)
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 30}):
        heartbeat = [run_flow(warm_up_flow)[1] for _ in range(3)]
    empty = [run_flow(warm_up_flow)[1] for _ in range(3)]  # as every step runs: heartbeats off
    report.notes.append(
        f"Prefect one-time start (first flow run of the process): {first:.1f} s, excluded from "
        f"every step. An empty flow run after it, heartbeats off as in every step (planflow's "
        f"local mode): {min(empty):.2f}–{max(empty):.2f} s; with Prefect's flow heartbeats on: "
        f"{min(heartbeat):.2f}–{max(heartbeat):.2f} s (a sync flow joins its heartbeat thread)."
    )
    report.empty_flow = min(empty)


def compare_naive(report: BenchReport) -> list[str]:
    """Judge the naive Hà Nội run against the batched ones (extrapolated when it was capped);
    the verdict is against the shipped default, one task per district."""
    hanoi = [s for s in report.steps if s.scale == "hanoi" and s.name.startswith("cascade")]
    naive = next((s for s in hanoi if "naive" in s.name), None)
    batched = [s for s in hanoi if "naive" not in s.name]
    if naive is None or not batched:
        return []
    done, total = naive.rows["plan"][2], batched[0].rows["plan"][2]
    factor = total / done if 0 < done < total else 1.0
    fixed = min(report.empty_flow, naive.wall)

    def scaled(seconds: float | None) -> float:  # a capped run: scale only the per-unit part
        return fixed + (seconds - fixed) * factor if seconds else 0.0

    wall, e2e_naive = scaled(naive.wall), scaled(naive.end_to_end)
    label = (
        f" (extrapolated from {done} of {total} sub-plans: {fixed:.2f} s of an empty flow run "
        f"+ the rest ×{factor:.1f})"
        if factor > 1
        else ""
    )
    lines = [f"naive Hà Nội cascade: {wall:.1f} s flow wall, {e2e_naive:.1f} s end to end{label}"]
    for b in batched:
        how = b.name.split("(", 1)[-1].rstrip(")")
        e2e = e2e_naive / b.end_to_end if b.end_to_end else 0.0
        lines.append(
            f"  vs batched ({how}): {b.wall:.2f} s → {wall / b.wall:.1f}× faster "
            f"(end to end {e2e:.1f}×)"
        )
    speed_up = wall / batched[0].wall
    naive.target = f"batched ≥ {NAIVE_TARGET:.0f}× faster: {speed_up:.1f}×"
    naive.met = speed_up >= NAIVE_TARGET
    return lines
