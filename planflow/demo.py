"""The full-cycle demo on the embedded default: load Hà Nội, issue the 2025 plan, cascade it,
simulate the units' reports, aggregate ward → district → city, sweep, and print the result.

Everything the demo makes up is labelled: the plan number and signers it assigns to drafts, the
units' figures (seeded random), the contact addresses (``@demo.planflow.test``). A second run
on the same database reuses what exists and says so.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
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
from planflow.models.time import local_tz, utcnow
from planflow.notifications.dispatcher import next_send_moment
from planflow.states import OPEN
from planflow.vntext import kind_vi, vn_date, vn_int, vn_number

DEMO_NUMBER = "01/KH-UBND"  # the seed is a draft without a number: the demo assigns one
DEMO_ISSUED_ON = date(2025, 1, 20)
SUB_PLAN_ISSUED_ON = date(2025, 2, 14)
PERIOD = "2025-H1"
ANNUAL = "2025"
REORGANISED_ON = date(2025, 7, 1)  # districts abolished, wards merged (Hà Nội: 526 → 126)
COMMUNE_PLANS_ON = date(2025, 7, 15)  # the new communes issue their plans for the rest of 2025
ACTOR = "planflow demo"


class Printed(list):
    """A list of step lines that prints each one as it is added (the demo shows its progress
    as it goes, not all at the end)."""

    def __init__(self, console: Console | None = None, tag: str = "") -> None:
        super().__init__()
        self.console, self.tag = console, tag

    def append(self, line: str) -> None:
        super().append(line)
        if self.console is not None:
            self.console.print(f"{self.tag} {line}")


@dataclass
class DemoLog:
    reused: list[str] = field(default_factory=Printed)
    done: list[str] = field(default_factory=Printed)


@contextmanager
def step(console: Console, what: str) -> Iterator[None]:
    """A long step: a progress bar while it runs (an officer sees it is working)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        progress.add_task(what, total=None)
        yield


STATUS_VI = {
    "met": "đạt",
    "not met": "chưa đạt",
    "cannot be assessed": "chưa đánh giá được",
    "no target": "không có chỉ tiêu",
}


def local(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=local_tz()).astimezone(UTC)


def city_plan(session: Session, log: DemoLog) -> Plan:
    """The 2025 city plan: imported from the shipped draft once, then reused."""
    from planflow.documents.reading.importer import import_plan, save_plan
    from planflow.samples import HANOI_2025_DRAFT, sample_path
    from planflow.services import hierarchy
    from planflow.services.succession import unit_on

    city = hierarchy.get_unit(session, 3, "01")
    issuers = [pk(city), unit_on(session, pk(city), REORGANISED_ON)]  # passed on on 1/7/2025
    found = session.exec(
        select(Plan).where(
            col(Plan.issuer_id).in_(issuers), Plan.number == DEMO_NUMBER, Plan.year == 2025
        )
    ).first()
    if found is not None:
        log.reused.append(f"kế hoạch {found.id} ({found.number}, {found.status})")
        return found
    imported = import_plan(session=session, text_or_path=sample_path(HANOI_2025_DRAFT), tiers=3)
    plan = save_plan(session=session, imported=imported)
    plan.number, plan.issued_on = DEMO_NUMBER, DEMO_ISSUED_ON
    session.add(plan)
    session.flush()
    log.done.append(
        f"nhập {HANOI_2025_DRAFT} thành kế hoạch {plan.id} (số {DEMO_NUMBER} do demo gán)"
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
        issue_plan(
            session=session, plan_id=pk(plan), actor=f"UBND {unit.name}", at=local(issued_on)
        )
    if drafted:
        log.done.append(
            f"ban hành {vn_int(len(drafted))} kế hoạch cấp dưới ngày {vn_date(issued_on)}"
        )
    else:
        log.reused.append("mọi kế hoạch cấp dưới đã ban hành")
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
            col(ReportRequest.status).in_(OPEN),
        )
        .order_by(col(ReportRequest.id))
    ).all()
    counts = {"on_time": 0, "late": 0, "missing": 0, "returned": 0}
    returned_one = False
    for request, unit in rows:
        rng = random.Random(seed * 1_000_003 + pk(request))
        fate = rng.random()
        if request.status == State.issued and fate < 0.9:
            acknowledge(
                session=session,
                request_id=pk(request),
                actor=unit.label,
                at=local(request.deadline - timedelta(days=30)),
            )
        if fate >= 0.84:
            counts["missing"] += 1
            continue
        late = fate >= 0.72
        when = (
            request.deadline + timedelta(days=rng.randint(1, 6))
            if late
            else (request.deadline - timedelta(days=rng.randint(0, 8)))
        )
        figures = _figures(rng, unit)
        submit_report(
            session=session,
            request_id=pk(request),
            figures=figures,
            actor=unit.label,
            at=local(when, 10),
            narrative={"results": "Số liệu mô phỏng (demo)."},
        )
        counts["late" if late else "on_time"] += 1
        if not returned_one and unit.level == Level.ward and not late:
            returned_one = True
            receiver = session.get(OrgUnit, request.recipient_id) if request.recipient_id else None
            return_report(
                session=session,
                request_id=pk(request),
                actor=receiver.name if receiver else "cơ quan thường trực",
                reason="Đề nghị bổ sung số liệu tách biệt giới của học viên tập huấn.",
                at=local(when, 14),
            )
            submit_report(
                session=session,
                request_id=pk(request),
                figures=figures,
                actor=unit.label,
                at=local(when, 16),
                narrative={"results": "Đã bổ sung theo yêu cầu (demo)."},
            )
            counts["returned"] += 1
    if counts["on_time"] + counts["late"] == 0:
        log.reused.append(
            f"yêu cầu {kind_vi(kind)} {period}: {vn_int(counts['missing'])} "
            "còn mở (các đơn vị này không nộp trong demo); số còn lại đã xử lý ở lần chạy trước"
        )
    else:
        log.done.append(
            f"mô phỏng {vn_int(len(rows))} yêu cầu {kind_vi(kind)} {period}: "
            f"{vn_int(counts['on_time'])} đúng hạn, {vn_int(counts['late'])} muộn, "
            f"{vn_int(counts['missing'])} chưa nộp, {vn_int(counts['returned'])} bị trả lại "
            "và nộp lại (số liệu mô phỏng)"
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
            f"sắp xếp đơn vị hành chính Hà Nội ngày {vn_date(REORGANISED_ON)}: "
            f"{vn_int(moved.units_ended)} đơn vị kết thúc, {vn_int(moved.plans_cancelled)} "
            f"kế hoạch của quận, huyện, phường, xã bị huỷ, {vn_int(moved.moved)} yêu cầu còn mở "
            f"chuyển sang đơn vị mới, {vn_int(moved.merged)} gộp, "
            f"{vn_int(moved.requests_created)} tạo mới"
        )
    else:
        log.reused.append(f"Hà Nội đã sắp xếp đơn vị hành chính ngày {vn_date(REORGANISED_ON)}")
    cascaded = cascade_plan_flow(plan_id)  # what the hourly reconcile-cascades run does
    if cascaded.created:
        log.done.append(f"đối soát phân cấp: {vn_int(cascaded.created)} kế hoạch của xã, phường")
    with Session(engine, expire_on_commit=False) as session:
        issue_sub_plans(session, plan_id, log, issued_on=COMMUNE_PLANS_ON)
        session.commit()
        simulate_units(session, plan_id, seed, log, kind=ReportKind.annual, period=ANNUAL)
        session.commit()
    aggregate_period_flow(plan_id, ReportKind.annual, ANNUAL, actor="Sở Nội vụ")


def run_demo(*, seed: int = 2025, console: Console | None = None) -> Path:
    """Run the whole cycle; returns the path of the compiled report it wrote."""
    from planflow.flows.runtime import local_mode

    with local_mode():
        return _run_demo(seed=seed, console=console)


def _run_demo(*, seed: int, console: Console | None) -> Path:
    from planflow.errors import PlanflowError
    from planflow.flows.plans import IssueSummary, cascade_plan_flow, issue_plan_flow
    from planflow.flows.reports import aggregate_period_flow
    from planflow.flows.runtime import database_tag, prefect_env_defaults, where
    from planflow.flows.sweep import daily_sweep_flow, dispatch_outbox_flow
    from planflow.services import hierarchy
    from planflow.services.catalogue import load_indicators

    console = console or Console(width=120)
    prefect_env_defaults(quiet=True)
    out_dir = get_settings().data_dir / "demo" / database_tag()  # per database, never shared
    os.environ.setdefault("PLANFLOW_OUTBOX_DIR", str(out_dir / "outbox"))
    get_settings.cache_clear()
    engine = get_engine()
    create_schema(engine)
    log = DemoLog(
        reused=Printed(console, "[yellow]dùng lại[/]"), done=Printed(console, "[green]xong[/]    ")
    )
    console.rule("[bold]planflow demo: Hà Nội 2025, báo cáo 6 tháng và báo cáo năm")
    console.print(
        f"Chạy {where()}; cơ sở dữ liệu {database_tag()}; tệp kết quả trong {out_dir}",
        soft_wrap=True,
    )
    with (
        step(console, "Nạp cây đơn vị Hà Nội và kế hoạch"),
        Session(engine, expire_on_commit=False) as session,
    ):
        loaded = hierarchy.load_units(
            session=session, province="Hà Nội", tiers=3, demo_contacts=True
        )
        load_indicators(session=session)
        plan = city_plan(session, log)
        session.commit()
        plan_id, status = pk(plan), plan.status
    created = sum(loaded.created.values())
    (log.done if created else log.reused).append(
        f"cây đơn vị Hà Nội ba cấp: tạo mới {vn_int(created)}, đã có "
        f"{vn_int(sum(loaded.existing.values()))}"
    )
    with step(console, "Khởi động Prefect, ban hành và phân cấp kế hoạch thành phố"):
        if status == State.drafted:
            issued = issue_plan_flow(plan_id, actor="Sở Lao động - Thương binh và Xã hội")
            if not isinstance(issued, IssueSummary):  # a Failed state: the flow says why
                raise PlanflowError(f"chưa ban hành được kế hoạch thành phố: {issued.message}")
            log.done.append(
                f"ban hành kế hoạch thành phố: {vn_int(issued.requests_issued)} yêu "
                f"cầu báo cáo, {vn_int(issued.sub_plans_created)} kế hoạch cấp dưới"
            )
        else:
            again = cascade_plan_flow(plan_id)
            log.reused.append(
                f"kế hoạch thành phố đã {status}; phân cấp lại: tạo mới "
                f"{vn_int(again.created)}, đã có {vn_int(again.existing)}"
            )
    with (
        step(console, "Ban hành kế hoạch cấp dưới, mô phỏng báo cáo 6 tháng của các đơn vị"),
        Session(engine, expire_on_commit=False) as session,
    ):
        issue_sub_plans(session, plan_id, log)
        session.commit()
        simulate_units(session, plan_id, seed, log)
        session.commit()
    with step(console, f"Tổng hợp kỳ {PERIOD} từ phường lên thành phố"):
        aggregate_period_flow(plan_id, ReportKind.six_month, PERIOD, actor="Sở Nội vụ")
    log.done.append(f"tổng hợp kỳ {PERIOD}: phường → quận, huyện → thành phố")
    with step(console, "Sắp xếp đơn vị hành chính 1/7/2025 và báo cáo năm"):
        reorganise_year(plan_id, seed, log)
    sweep_at = datetime(2025, 5, 31, 8, 0, tzinfo=local_tz())  # the morning after the city deadline
    with step(console, f"Rà soát ngày {vn_date(sweep_at)} và gửi thông báo"):
        sweep = daily_sweep_flow(now=sweep_at, send=False)
        log.done.append(
            f"rà soát lúc {sweep_at:%H:%M %d/%m/%Y}: {vn_int(sweep.overdue_total)} "
            f"yêu cầu quá hạn, {vn_int(sweep.messages_queued)} thông báo nhắc xếp hàng"
        )
        clock = next_send_moment(utcnow())
        sent = dispatch_outbox_flow(now=clock)
    log.done.append(
        f"gửi thông báo lúc {clock.astimezone(local_tz()):%H:%M %d/%m/%Y}: đã gửi "
        f"{vn_int(sent['sent'])}, thử lại sau {vn_int(sent['retried'])}, "
        f"lỗi {vn_int(sent['dead'])}"
    )
    with Session(engine) as session:
        return print_summary(session, plan_id, console, out_dir)


def print_summary(session: Session, plan_id: int, console: Console, data_dir: Path) -> Path:
    """The tables an operator reads, and the compiled reports written to files."""
    from planflow.notifications.outbox import outbox_counts

    for kind, period, title in (
        (ReportKind.six_month, PERIOD, "Báo cáo 6 tháng năm 2025 (ba cấp)"),
        (ReportKind.annual, ANNUAL, "Báo cáo năm 2025 (hai cấp từ 1/7/2025)"),
    ):
        print_period(session, plan_id, console, kind, period, title)
    counts = outbox_counts(session)
    msg = Table(title="Thông báo chu trình đã tạo (hàng đợi gửi, theo loại/trạng thái)")
    msg.add_column("loại/trạng thái")
    msg.add_column("số lượng", justify="right")
    for key, count in sorted(counts.items()):
        msg.add_row(key, vn_int(count))
    console.print(msg)
    path = write_compiled_report(session, plan_id, data_dir)
    console.print(f"báo cáo 6 tháng: báo cáo tổng hợp đã ghi vào [bold]{path}[/]", soft_wrap=True)
    annual = write_compiled_report(session, plan_id, data_dir, ReportKind.annual, ANNUAL)
    console.print(f"báo cáo năm: báo cáo tổng hợp đã ghi vào [bold]{annual}[/]", soft_wrap=True)
    console.print(
        f"thông báo kênh tệp đã ghi vào: {get_settings().resolved_outbox_dir}", soft_wrap=True
    )
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
    table = Table(title=f"{title}: tình hình nộp theo UBND (số liệu mô phỏng)")
    for name in ("UBND", "phải nộp", "đúng hạn", "muộn", "chưa nộp", "tỷ lệ đã nộp"):
        table.add_column(name, justify="left" if name == "UBND" else "right")
    for plan, unit in rows:
        report, _ = compiled_figures(session, plan_id=pk(plan), kind=kind, period=period)
        c = report.completeness if report else {}
        expected = c.get("expected", 0)
        if not expected:  # nothing was owed to it for this period (a commune, a merged ward)
            continue
        got = c.get("on_time", 0) + c.get("late", 0)
        table.add_row(
            unit.label,
            vn_int(expected),
            vn_int(c.get("on_time", 0)),
            vn_int(c.get("late", 0)),
            vn_int(c.get("missing", 0)),
            f"{vn_number(round(100 * got / expected, 2))} %",
        )
    console.print(table)
    _, figures = compiled_figures(session, plan_id=plan_id, kind=kind, period=period)
    fig = Table(
        title=f"{title}: chỉ tiêu tổng hợp của Hà Nội so với chỉ tiêu 2025 "
        "(Nghị quyết 28/NQ-CP; số liệu mô phỏng)"
    )
    for name in (
        "mã",
        "chỉ tiêu",
        "nữ",
        "nam",
        "tổng/tử số",
        "giá trị",
        "chỉ tiêu năm",
        "đánh giá",
    ):
        fig.add_column(name, no_wrap=True, max_width=34 if name == "chỉ tiêu" else None)
    for f in figures:
        fig.add_row(
            f.code,
            f.name,
            vn_int(f.female),
            vn_int(f.male),
            vn_int(f.total if f.kind != "ratio" else f.numerator),
            vn_number(f.value),
            vn_number(f.target),
            STATUS_VI.get(f.status, f.status),
        )
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
        session,
        plan_id=plan_id,
        kind=kind,
        period=period,
        folder=data_dir / "reports",
        note="Số liệu mô phỏng: báo cáo này do planflow demo tạo từ số liệu ngẫu nhiên có gieo "
        "hạt, không phải số liệu thật của các đơn vị.",
    )
    return paths[Format.docx]
