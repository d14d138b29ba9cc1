"""``planflow demo --year 2026``: a plan issued on two tiers from the start, as users make them
now — city → 126 communes and wards of Hà Nội, with Sở Nội vụ as the standing agency.

There is no real 2026 plan to ship, so the demo re-dates the 2025 draft: same content, the year
and its deadlines moved to ``year``, the names the two-tier map no longer has carried by the
configured successions (Sở LĐTBXH's duties to Sở Nội vụ; "UBND các quận, huyện, thị xã" to
every commune and ward). Everything it makes up is labelled, like the 2025 demo.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from rich.console import Console
from sqlmodel import Session, select

from planflow.config.db import create_schema, get_engine
from planflow.config.settings import get_settings
from planflow.demo import (
    DEMO_NUMBER,
    DemoLog,
    issue_sub_plans,
    print_period,
    simulate_units,
    write_compiled_report,
)
from planflow.models import Assignment, Plan, ReportKind, Role, State
from planflow.models.base import pk
from planflow.models.time import local_tz, utcnow
from planflow.notifications.dispatcher import next_send_moment
from planflow.vntext import vn_int

COMMUNES_LABEL = "Ủy ban nhân dân các xã, phường"


def _redate(day: date, year: int) -> date:
    from planflow.services.deadlines import previous_working_day

    return previous_working_day(day.replace(year=year))


def two_tier_plan(session: Session, year: int, log: DemoLog) -> Plan:
    """The 2025 draft re-dated to ``year`` and addressed to the two-tier city; reused later."""
    from planflow.documents.reading.importer import import_plan, save_plan
    from planflow.samples import HANOI_2025_DRAFT, sample_path
    from planflow.services import hierarchy

    city = hierarchy.get_unit(session, 2, "01")
    found = session.exec(
        select(Plan).where(Plan.issuer_id == city.id, Plan.year == year,
                           Plan.number == DEMO_NUMBER)
    ).first()
    if found is not None:
        log.reused.append(f"plan {found.id} ({found.number} of {year}, {found.status})")
        return found
    imported = import_plan(session=session, text_or_path=sample_path(HANOI_2025_DRAFT), tiers=2)
    parsed = imported.parsed
    imported.parsed = replace(parsed, year=year, title=parsed.title.replace("2025", str(year)))
    for line in imported.deadlines:
        line.due_on = _redate(line.due_on, year)
    home = hierarchy.standing_agency(session, city)  # Sở Nội vụ
    communes_duties: list[str] = []
    merged = 0
    kept = []
    for a in imported.assignments:
        if a.unit_id is None and "Lao động" in a.unit and home is not None:
            target = next((b for b in imported.assignments if b.unit_id == home.id), None)
            if target is not None:
                # LĐTBXH's gender-equality work is Nội vụ's since 1/3/2025
                target.duties += a.duties
                merged += 1
                continue
        if a.unit_id is None and "quận" in a.unit:
            communes_duties += a.duties  # the districts' duties: the communes' since 1/7/2025
            continue
        kept.append(a)
    imported.assignments = kept
    plan = save_plan(session=session, imported=imported)
    plan.number, plan.issued_on = DEMO_NUMBER, date(year, 1, 20)
    session.add(plan)
    position = len(kept)
    communes = hierarchy.child_committees(session, pk(city))
    for unit in communes:
        session.add(Assignment(plan_id=pk(plan), unit_id=pk(unit), role=Role.lead,
                               position=position, group_label=COMMUNES_LABEL,
                               duties="\n".join(communes_duties)))
        position += 1
    session.flush()
    log.done.append(
        f"dự thảo năm 2025 đổi sang năm {year} thành kế hoạch {plan.id} (số {DEMO_NUMBER} và "
        f"các ngày do bản chạy thử gán): nhiệm vụ của Sở LĐTBXH giao cho Sở Nội vụ ({merged} "
        f"khối), nhiệm vụ của các quận, huyện giao cho {vn_int(len(communes))} xã, phường"
    )
    return plan


def run_demo_two_tiers(*, year: int, seed: int = 2025, console: Console | None = None) -> Path:
    """Issue, cascade, report and compile the six-month period of a two-tier ``year`` plan."""
    from planflow.flows.runtime import local_mode

    with local_mode():
        return _run(year=year, seed=seed, console=console or Console(width=120))


def _run(*, year: int, seed: int, console: Console) -> Path:
    from planflow.errors import PlanflowError
    from planflow.flows.plans import IssueSummary, cascade_plan_flow, issue_plan_flow
    from planflow.flows.reports import aggregate_period_flow
    from planflow.flows.runtime import prefect_env_defaults, where
    from planflow.flows.sweep import daily_sweep_flow, dispatch_outbox_flow
    from planflow.services import hierarchy
    from planflow.services.catalogue import load_indicators

    prefect_env_defaults(quiet=True)
    engine = get_engine()
    create_schema(engine)
    log = DemoLog()
    period = f"{year}-H1"
    console.rule(f"[bold]planflow demo: Hà Nội năm {year}, chính quyền hai cấp (dự thảo 2025 "
                 "đổi năm)")
    console.print(f"Chạy {where()}")
    with Session(engine, expire_on_commit=False) as session:
        loaded = hierarchy.load_units(session=session, province="Hà Nội", tiers=2,
                                      demo_contacts=True)
        load_indicators(session=session)
        plan = two_tier_plan(session, year, log)
        session.commit()
        plan_id, status = pk(plan), plan.status
    (log.done if loaded.total_created else log.reused).append(
        f"đơn vị hai cấp của Hà Nội: tạo mới {vn_int(loaded.total_created)}, đã có "
        f"{vn_int(loaded.total_existing)}"
    )
    if status == State.drafted:
        issued = issue_plan_flow(plan_id, actor="Sở Nội vụ")
        if not isinstance(issued, IssueSummary):  # a Failed state: the flow says why
            raise PlanflowError(f"chưa ban hành được kế hoạch thành phố: {issued.message}")
        log.done.append(f"ban hành kế hoạch thành phố: {vn_int(issued.requests_issued)} yêu cầu "
                        f"báo cáo, {vn_int(issued.sub_plans_created)} kế hoạch cấp dưới "
                        "đã phân cấp")
    else:
        again = cascade_plan_flow(plan_id)
        log.reused.append(f"kế hoạch thành phố đã có từ lần chạy trước; phân cấp chạy lại: tạo "
                          f"mới {vn_int(again.created)}")
    with Session(engine, expire_on_commit=False) as session:
        issue_sub_plans(session, plan_id, log, issued_on=date(year, 2, 10))
        session.commit()
        simulate_units(session, plan_id, seed, log, kind=ReportKind.six_month, period=period)
        session.commit()
    aggregate_period_flow(plan_id, ReportKind.six_month, period, actor="Sở Nội vụ")
    sweep = daily_sweep_flow(now=datetime(year, 5, 31, 8, 0, tzinfo=local_tz()), send=False)
    sent = dispatch_outbox_flow(now=next_send_moment(utcnow()))
    log.done.append(f"rà soát ngày 31/5/{year}: {vn_int(sweep.overdue_total)} yêu cầu quá hạn, "
                    f"{vn_int(sweep.messages_queued)} thông báo nhắc được xếp hàng; đã gửi "
                    f"{vn_int(sent['sent'])} thông báo")
    for line in log.reused:
        console.print(f"[yellow]dùng lại[/] {line}")
    for line in log.done:
        console.print(f"[green]xong[/]     {line}")
    with Session(engine) as session:
        print_period(session, plan_id, console, ReportKind.six_month, period,
                     f"Báo cáo 6 tháng năm {year} (chính quyền hai cấp)")
        path = write_compiled_report(session, plan_id, get_settings().data_dir,
                                     ReportKind.six_month, period)
    console.print(f"báo cáo 6 tháng: báo cáo tổng hợp đã ghi vào [bold]{path}[/]")
    return path
