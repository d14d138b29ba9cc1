"""The full-cycle demo on the embedded default: load Hà Nội, issue the 2025 plan, cascade it,
simulate the units' reports, aggregate ward → district → city, sweep, and print the result.

Everything the demo makes up is labelled: the plan number and signers it assigns to drafts, the
units' figures (seeded random), the contact addresses (``@demo.planflow.test``). A second run
on the same database reuses what exists and says so.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlmodel import Session, col, select

from planflow.config.db import create_schema, get_engine
from planflow.config.settings import get_settings
from planflow.models import (
    Level,
    OrgUnit,
    Plan,
    ReportKind,
    ReportRequest,
    State,
    UnitKind,
)
from planflow.models.base import pk
from planflow.models.time import LOCAL_TZ

DEMO_NUMBER = "01/KH-UBND"  # the seed is a draft without a number: the demo assigns one
DEMO_ISSUED_ON = date(2025, 1, 20)
SUB_PLAN_ISSUED_ON = date(2025, 2, 14)
PERIOD = "2025-H1"
ANNUAL = "2025"
REORGANISED_ON = date(2025, 7, 1)  # districts abolished, wards merged (Hà Nội: 526 → 126)
COMMUNE_PLANS_ON = date(2025, 7, 15)  # the new communes issue their plans for the rest of 2025
SWEEP_AT = datetime(2025, 5, 31, 8, 0, tzinfo=LOCAL_TZ)  # the morning after the city deadline
ACTOR = "planflow demo"


@dataclass
class DemoLog:
    reused: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)


def local(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ).astimezone(UTC)


def city_plan(session: Session, log: DemoLog) -> Plan:
    """The 2025 city plan: imported from the shipped draft once, then reused."""
    from planflow.documents.reading.importer import import_plan, save_plan
    from planflow.samples import HANOI_2025_DRAFT, sample_path
    from planflow.services import hierarchy
    from planflow.services.succession import unit_on

    city = hierarchy.get_unit(session, 3, "01")
    issuers = [pk(city), unit_on(session, pk(city), REORGANISED_ON)]  # passed on on 1/7/2025
    found = session.exec(
        select(Plan).where(col(Plan.issuer_id).in_(issuers), Plan.number == DEMO_NUMBER,
                           Plan.year == 2025)
    ).first()
    if found is not None:
        log.reused.append(f"plan {found.id} ({found.number}, {found.status})")
        return found
    imported = import_plan(session=session, text_or_path=sample_path(HANOI_2025_DRAFT), tiers=3)
    plan = save_plan(session=session, imported=imported)
    plan.number, plan.issued_on = DEMO_NUMBER, DEMO_ISSUED_ON
    session.add(plan)
    session.flush()
    log.done.append(
        f"imported {HANOI_2025_DRAFT} as plan {plan.id} (number {DEMO_NUMBER} assigned by the demo)"
    )
    return plan


def issue_sub_plans(
    session: Session, root_id: int, log: DemoLog, issued_on: date = SUB_PLAN_ISSUED_ON
) -> int:
    """Every drafted sub-plan gets a number, a date and a signer, and is issued top-down."""
    from planflow.services.plans import issue_plan

    drafted = session.exec(
        select(Plan, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == col(Plan.issuer_id))
        .where(Plan.root_id == root_id, Plan.status == State.drafted)
        .order_by(col(Plan.depth), col(OrgUnit.code))
    ).all()
    for n, (plan, unit) in enumerate(drafted, start=1):
        plan.number = f"{n}/KH-UBND"
        plan.issued_on = issued_on
        plan.signer_name = f"Lãnh đạo UBND {unit.name} (demo)"
        session.add(plan)
        session.flush()
        issue_plan(session=session, plan_id=pk(plan), actor=f"UBND {unit.name}",
                   at=local(issued_on))
    if drafted:
        log.done.append(f"issued {len(drafted)} sub-plans on {issued_on:%d/%m/%Y}")
    else:
        log.reused.append("all sub-plans already issued")
    return len(drafted)


def _figures(rng: random.Random, unit: OrgUnit) -> dict[str, dict[str, int]]:
    """Plausible sex-disaggregated figures for one unit's six-month report (seeded random)."""
    def by_sex(lo: int, hi: int) -> dict[str, int]:
        female, male = rng.randint(lo, hi), rng.randint(lo // 2, hi // 2)
        return {"female": female, "male": male, "total": female + male}

    figures = {
        "HD-TT-SK": {"total": rng.randint(0, 6)},
        "HD-TT-NG": by_sex(20, 240),
        "HD-TH-LOP": {"total": rng.randint(0, 2)},
        "HD-TH-HV": by_sex(0, 60),
    }
    if unit.kind == UnitKind.committee:
        detected = rng.randint(0, 5)
        workers = rng.randint(400, 5000)
        firms = rng.randint(40, 400)
        girls = rng.randint(80, 400)
        figures |= {
            "HD-BL-PH": {"total": detected},
            "NQ28-3.2": {"numerator": rng.randint(0, detected), "denominator": detected},
            "NQ28-1.2": {"numerator": rng.choice([0, 1, 1]), "denominator": 1},
            "NQ28-2.1": {
                "numerator": int(workers * rng.uniform(0.40, 0.56)),
                "denominator": workers,
            },
            "NQ28-2.2": {"numerator": int(firms * rng.uniform(0.18, 0.34)), "denominator": firms},
            "NQ28-4.1": {"numerator": int(girls * rng.uniform(1.04, 1.18)), "denominator": girls},
            "HD-LD": by_sex(2, 8),
        }
    return figures


def simulate_units(
    session: Session,
    root_id: int,
    seed: int,
    log: DemoLog,
    kind: ReportKind = ReportKind.six_month,
    period: str = PERIOD,
) -> dict[str, int]:
    """A seeded subset of units acknowledges and reports, some late, some not at all; one
    report is returned for revision and re-submitted. Decided per request, so a re-run
    makes the same choices and finds them done."""
    from planflow.services.reporting import acknowledge, return_report, submit_report

    rows = session.exec(
        select(ReportRequest, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == col(ReportRequest.unit_id))
        .join(Plan, col(Plan.id) == col(ReportRequest.plan_id))
        .where(
            (Plan.root_id == root_id) | (Plan.id == root_id),
            ReportRequest.kind == kind,
            ReportRequest.period == period,
            col(ReportRequest.status).in_([State.issued, State.acknowledged]),
        )
        .order_by(col(ReportRequest.id))
    ).all()
    counts = {"on_time": 0, "late": 0, "missing": 0, "returned": 0}
    returned_one = False
    for request, unit in rows:
        rng = random.Random(seed * 1_000_003 + pk(request))
        fate = rng.random()
        if request.status == State.issued and fate < 0.9:
            acknowledge(session=session, request_id=pk(request), actor=unit.label,
                        at=local(request.deadline - timedelta(days=30)))
        if fate >= 0.84:
            counts["missing"] += 1
            continue
        late = fate >= 0.72
        when = request.deadline + timedelta(days=rng.randint(1, 6)) if late else (
            request.deadline - timedelta(days=rng.randint(0, 8))
        )
        figures = _figures(rng, unit)
        submit_report(session=session, request_id=pk(request), figures=figures, actor=unit.label,
                      at=local(when, 10), narrative={"results": "Số liệu mô phỏng (demo)."})
        counts["late" if late else "on_time"] += 1
        if not returned_one and unit.level == Level.ward and not late:
            returned_one = True
            receiver = session.get(OrgUnit, request.recipient_id) if request.recipient_id else None
            return_report(session=session, request_id=pk(request),
                          actor=receiver.name if receiver else "cơ quan thường trực",
                          reason="Đề nghị bổ sung số liệu tách biệt giới của học viên tập huấn.",
                          at=local(when, 14))
            submit_report(session=session, request_id=pk(request), figures=figures,
                          actor=unit.label, at=local(when, 16),
                          narrative={"results": "Đã bổ sung theo yêu cầu (demo)."})
            counts["returned"] += 1
    if counts["on_time"] + counts["late"] == 0:
        log.reused.append(
            f"{kind} {period} requests: {counts['missing']} still open (those units never "
            "report in this demo); the rest were decided by an earlier run"
        )
    else:
        log.done.append(
            f"simulated {len(rows)} open {kind} {period} requests: {counts['on_time']} on time, "
            f"{counts['late']} late, {counts['missing']} missing, "
            f"{counts['returned']} returned and re-submitted"
        )
    return counts


def reorganise_year(plan_id: int, seed: int, log: DemoLog) -> None:
    """The second half of 2025: on 1/7 the districts are abolished and 526 wards become 126
    communes; the city plan passes to the two-tier city, the communes get and issue their
    plans, report for the year straight to Sở Nội vụ, and the year is compiled."""
    from planflow.flows.plans import cascade_plan_flow
    from planflow.flows.reports import aggregate_period_flow
    from planflow.services.reorganise import reorganise

    engine = get_engine()
    with Session(engine, expire_on_commit=False) as session:
        moved = reorganise(session=session, province="Hà Nội", on=REORGANISED_ON)
        session.commit()
    if moved.changed:
        log.done.append(
            f"reorganised Hà Nội on {REORGANISED_ON:%d/%m/%Y}: {moved.units_ended} units ended, "
            f"{moved.plans_cancelled} district and ward plans cancelled, {moved.moved} open "
            f"requests moved to the new units, {moved.merged} merged, "
            f"{moved.requests_created} created"
        )
    else:
        log.reused.append(f"Hà Nội already reorganised on {REORGANISED_ON:%d/%m/%Y}")
    cascaded = cascade_plan_flow(plan_id)  # what the hourly reconcile-cascades run does
    if cascaded.created:
        log.done.append(f"reconcile cascade: {cascaded.created} commune and ward sub-plans")
    with Session(engine, expire_on_commit=False) as session:
        issue_sub_plans(session, plan_id, log, issued_on=COMMUNE_PLANS_ON)
        session.commit()
        simulate_units(session, plan_id, seed, log, kind=ReportKind.annual, period=ANNUAL)
        session.commit()
    aggregate_period_flow(plan_id, ReportKind.annual, ANNUAL, actor="Sở Nội vụ")


def send_clock() -> datetime:
    """When the demo sends: now, or the next 07:00 in Hà Nội if now is outside the send window
    (so the demo delivers whatever the hour, as the 07:30 daily run would)."""
    from planflow.models.time import utcnow
    from planflow.notifications.dispatcher import in_send_window

    now = utcnow()
    if in_send_window(now):
        return now
    local_now = now.astimezone(LOCAL_TZ)
    day = local_now.date() + timedelta(days=1 if local_now.hour >= 7 else 0)
    return datetime.combine(day, time(7, 0, 1), tzinfo=LOCAL_TZ).astimezone(UTC)


def run_demo(*, seed: int = 2025, console: Console | None = None) -> Path:
    """Run the whole cycle; returns the path of the compiled report it wrote."""
    from planflow.flows.runtime import local_mode

    with local_mode():
        return _run_demo(seed=seed, console=console)


def _run_demo(*, seed: int, console: Console | None) -> Path:
    from planflow.errors import PlanflowError
    from planflow.flows.plans import IssueSummary, cascade_plan_flow, issue_plan_flow
    from planflow.flows.reports import aggregate_period_flow
    from planflow.flows.runtime import prefect_env_defaults
    from planflow.flows.sweep import daily_sweep_flow, dispatch_outbox_flow
    from planflow.services import hierarchy
    from planflow.services.catalogue import load_indicators

    console = console or Console(width=120)
    prefect_env_defaults(quiet=True)
    settings = get_settings()
    engine = get_engine()
    create_schema(engine)
    log = DemoLog()
    console.rule("[bold]planflow demo: Hà Nội 2025, six-month report")
    with Session(engine, expire_on_commit=False) as session:
        loaded = hierarchy.load_units(session=session, province="Hà Nội", tiers=3,
                                      demo_contacts=True)
        load_indicators(session=session)
        plan = city_plan(session, log)
        session.commit()
        plan_id, status = pk(plan), plan.status
    created = sum(loaded.created.values())
    (log.done if created else log.reused).append(
        f"Hà Nội three-tier units: {created} created, {sum(loaded.existing.values())} existing"
    )
    console.print("starting Prefect (local mode) and issuing the city plan …")
    if status == State.drafted:
        issued = issue_plan_flow(plan_id, actor="Sở Lao động - Thương binh và Xã hội")
        if not isinstance(issued, IssueSummary):  # a Failed state: the flow says why
            raise PlanflowError(f"the city plan was not issued: {issued.message}")
        log.done.append(f"issued the city plan: {issued.requests_issued} report requests, "
                        f"{issued.sub_plans_created} sub-plans cascaded")
    else:
        again = cascade_plan_flow(plan_id)
        log.reused.append(f"city plan already {status}; cascade re-run: {again.created} "
                          f"created, {again.existing} existing")
    with Session(engine, expire_on_commit=False) as session:
        issue_sub_plans(session, plan_id, log)
        session.commit()
        simulate_units(session, plan_id, seed, log)
        session.commit()
    aggregate_period_flow(plan_id, ReportKind.six_month, PERIOD, actor="Sở Nội vụ")
    reorganise_year(plan_id, seed, log)
    sweep = daily_sweep_flow(now=SWEEP_AT, send=False)
    clock = send_clock()
    sent = dispatch_outbox_flow(now=clock)
    log.done.append(f"daily sweep as of {SWEEP_AT:%d/%m/%Y %H:%M}: {sweep.overdue_total} overdue "
                    f"requests, {sweep.messages_queued} reminder messages queued")
    log.done.append(f"outbox sent at {clock.astimezone(LOCAL_TZ):%d/%m/%Y %H:%M} local: "
                    f"{sent['sent']} sent, {sent['retried']} to retry, {sent['dead']} dead")
    for line in log.reused:
        console.print(f"[yellow]reused[/]  {line}")
    for line in log.done:
        console.print(f"[green]done[/]    {line}")
    with Session(engine) as session:
        return print_summary(session, plan_id, console, settings.data_dir)


def print_summary(session: Session, plan_id: int, console: Console, data_dir: Path) -> Path:
    """The tables an operator reads, and the compiled reports written to files."""
    from planflow.notifications.outbox import outbox_counts

    for kind, period, title in (
        (ReportKind.six_month, PERIOD, "Six-month report 2025 (three tiers)"),
        (ReportKind.annual, ANNUAL, "Annual report 2025 (two tiers since 1/7/2025)"),
    ):
        print_period(session, plan_id, console, kind, period, title)
    counts = outbox_counts(session)
    msg = Table(title="Messages the cycle generated (outbox, by kind/status)")
    msg.add_column("kind/status")
    msg.add_column("count", justify="right")
    for key, n in sorted(counts.items()):
        msg.add_row(key, str(n))
    console.print(msg)
    path = write_compiled_report(session, plan_id, data_dir)
    console.print(f"six-month: compiled report written to [bold]{path}[/]")
    annual = write_compiled_report(session, plan_id, data_dir, ReportKind.annual, ANNUAL)
    console.print(f"annual: compiled report written to [bold]{annual}[/]")
    console.print(f"messages the file channel wrote: {get_settings().resolved_outbox_dir}")
    return path


def print_period(
    session: Session, plan_id: int, console: Console, kind: ReportKind, period: str, title: str
) -> None:
    """Completeness per compiling committee and the city's indicators for one period."""
    from planflow.services.aggregation import compiled_figures

    rows = session.exec(
        select(Plan, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == col(Plan.issuer_id))
        .where((Plan.id == plan_id) | ((Plan.root_id == plan_id) & (Plan.depth == 1)))
        .order_by(col(Plan.depth), col(OrgUnit.tiers).desc(), col(OrgUnit.code))
    ).all()
    table = Table(title=f"{title}: completeness per committee")
    for name in ("committee", "expected", "on time", "late", "missing", "rate"):
        table.add_column(name, justify="left" if name == "committee" else "right")
    for plan, unit in rows:
        report, _ = compiled_figures(session, plan_id=pk(plan), kind=kind, period=period)
        c = report.completeness if report else {}
        expected = c.get("expected", 0)
        if not expected:  # nothing was owed to it for this period (a commune, a merged ward)
            continue
        got = c.get("on_time", 0) + c.get("late", 0)
        table.add_row(unit.label, str(expected), str(c.get("on_time", 0)), str(c.get("late", 0)),
                      str(c.get("missing", 0)), f"{100 * got / expected:.0f}%")
    console.print(table)
    _, figures = compiled_figures(session, plan_id=plan_id, kind=kind, period=period)
    fig = Table(title=f"{title}: Hà Nội compiled indicators against the 2025 targets "
                "(Nghị quyết 28/NQ-CP)")
    for name in ("code", "indicator", "female", "male", "total/num.", "value", "target", "status"):
        fig.add_column(name, no_wrap=True, max_width=34 if name == "indicator" else None)
    for f in figures:
        fig.add_row(f.code, f.name, *(str(v) if v is not None else "–" for v in (
            f.female, f.male, f.total if f.kind != "ratio" else f.numerator, f.value, f.target)),
            f.status)
    console.print(fig)


def write_compiled_report(
    session: Session,
    plan_id: int,
    data_dir: Path,
    kind: ReportKind = ReportKind.six_month,
    period: str = PERIOD,
) -> Path:
    """The city's compiled report of a period as .docx, .html and .md; returns the .docx path."""
    from planflow.documents.writing.render import Format, write_report_set

    paths = write_report_set(
        session, plan_id=plan_id, kind=kind, period=period, folder=data_dir / "reports",
    )
    return paths[Format.docx]
