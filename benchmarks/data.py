"""Benchmark data, made with the product's own services (not timed): the country's units, the
Hà Nội 2025 draft re-addressed to every province, issued. Numbers, dates and signers are labelled
as benchmark data. Also used by the server test that needs many plans (tests/server)."""

from __future__ import annotations

import os
import platform
import sqlite3
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from planflow.config.hierarchy_data import area_of
from planflow.models import (
    Assignment,
    Level,
    OrgUnit,
    Plan,
    PlanDeadline,
    PlanSection,
    State,
    UnitKind,
)
from planflow.models.base import must_get, pk
from planflow.services import hierarchy
from planflow.services.catalogue import load_indicators
from planflow.services.plans import get_plan, issue_plan
from planflow.states import issuable_problems

ISSUED_ON = date(2025, 1, 20)
SUB_PLANS_ISSUED_ON = date(2025, 2, 14)


def machine_facts(engine: Engine) -> dict[str, str]:
    """Cores, RAM, Python, the database and Prefect versions: what the figures depend on."""
    import prefect
    import sqlalchemy

    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        cpuinfo = []
    cpu = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line),
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
        "database": server
        + (f" (Python's sqlite3 module: {sqlite3.sqlite_version})" if "SQLite" in server else ""),
        "prefect": f"{prefect.__version__} ({os.environ.get('PREFECT_API_URL') or 'local mode'})",
        "sqlalchemy": sqlalchemy.__version__,
        "load average at start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def load(session: Session, province: str) -> None:
    """The three-tier units of ``province`` (or ``"all"``) and the indicator catalogue."""
    hierarchy.load_units(session=session, province=province, tiers=3)
    load_indicators(session=session)


def import_template(session: Session) -> int:
    """The Hà Nội 2025 draft (shipped sample), imported: the content of every province plan."""
    from planflow.documents.reading.importer import import_plan, save_plan
    from planflow.samples import HANOI_2025_DRAFT, sample_path

    imported = import_plan(session=session, text_or_path=sample_path(HANOI_2025_DRAFT), tiers=3)
    return pk(save_plan(session=session, imported=imported))


def province_plans(session: Session, template_id: int) -> list[int]:
    """One plan per loaded province: the template re-addressed to that province's committee,
    departments (matched by role) and districts. Numbers, dates and signers are bench data."""
    template = get_plan(session, template_id)
    sections = session.exec(
        select(PlanSection).where(col(PlanSection.plan_id) == template_id)
    ).all()
    lines = session.exec(select(PlanDeadline).where(col(PlanDeadline.plan_id) == template_id)).all()
    assignments = session.exec(
        select(Assignment, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == col(Assignment.unit_id))
        .where(col(Assignment.plan_id) == template_id)
        .order_by(col(Assignment.position))
    ).all()
    district_duty = next(a for a, u in assignments if u.kind == UnitKind.committee)
    provinces = hierarchy.loaded_provinces(session, 3)
    ids = {p.id for p in provinces}
    by_role = {
        (u.parent_id, u.role_key): u
        for u in session.exec(
            select(OrgUnit).where(col(OrgUnit.depth) == 1, col(OrgUnit.role_key).is_not(None))
        )
        if u.parent_id in ids
    }
    districts: dict[int | None, list[OrgUnit]] = defaultdict(list)
    for unit in session.exec(
        select(OrgUnit)
        .where(col(OrgUnit.kind) == UnitKind.committee, col(OrgUnit.depth) == 1)
        .order_by(col(OrgUnit.code))
    ):
        districts[unit.parent_id].append(unit)
    issuer = must_get(session, OrgUnit, template.issuer_id)
    template_area = area_of(issuer.name, Level.province).area
    plan_ids = []
    for n, province in enumerate(provinces, start=1):
        plan = template
        if province.id != template.issuer_id:
            area = area_of(province.name, Level.province).area
            fields = template.model_dump(
                exclude={"id", "issuer_id", "standing_agency_id", "created_at", "status",
                         "version"},
                warnings=False,
            )
            for key in ("title", "preamble", "closing", "place"):
                fields[key] = (fields[key] or "").replace(template_area, area) or None
            labour = by_role[(province.id, "labour")]
            plan = Plan(**fields, issuer_id=pk(province), standing_agency_id=pk(labour))
            session.add(plan)
            session.flush()
            for s in sections:
                session.add(
                    PlanSection(
                        **s.model_dump(exclude={"id", "plan_id"}, warnings=False), plan_id=pk(plan)
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
                        plan_id=pk(plan),
                        unit_id=pk(target),
                        position=position,
                    )
                )
                position += 1
            for district in districts[province.id]:
                session.add(
                    Assignment(
                        plan_id=pk(plan),
                        unit_id=pk(district),
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
                        plan_id=pk(plan),
                        kind=line.kind,
                        period=line.period,
                        due_on=line.due_on,
                        recipient_id=pk(labour),
                    )
                )
        plan.number, plan.issued_on = f"{n}/KH-UBND", ISSUED_ON
        plan.signer_name = plan.signer_name or f"Chủ tịch UBND {province.name} (dữ liệu đo)"
        session.add(plan)
        plan_ids.append(pk(plan))
    session.flush()
    return plan_ids


def issue_all(session: Session, plan_ids: list[int]) -> int:
    """Issue plans through the service (guards, requests, 'plan issued' messages)."""
    at = datetime.combine(ISSUED_ON, datetime.min.time(), tzinfo=UTC)
    return sum(
        issue_plan(session=session, plan_id=pid, actor="Sở LĐTBXH", at=at).requests_issued
        for pid in plan_ids
    )


def issue_sub_plans(session: Session, root_ids: list[int]) -> tuple[int, int]:
    """Issue every drafted sub-plan under ``root_ids``, parents first, through
    ``services.plans.issue_plan`` (number, date and signer filled in as bench data); a sub-plan
    the guards would refuse (no assignment) stays drafted. Returns (issued, left drafted)."""
    at = datetime.combine(SUB_PLANS_ISSUED_ON, datetime.min.time(), tzinfo=UTC)
    issued = skipped = 0
    drafted = session.exec(
        select(Plan)
        .where(col(Plan.root_id).in_(root_ids), col(Plan.status) == State.drafted)
        .order_by(col(Plan.depth), col(Plan.id))
    ).all()
    for n, plan in enumerate(drafted, start=1):
        plan.number = plan.number or f"{n}/KH-UBND"
        plan.issued_on = plan.issued_on or SUB_PLANS_ISSUED_ON
        plan.signer_name = plan.signer_name or "Chủ tịch UBND (dữ liệu đo)"
        session.add(plan)
        session.flush()
        if issuable_problems(session, plan):
            skipped += 1
            continue
        issue_plan(session=session, plan_id=pk(plan), actor="UBND (dữ liệu đo)", at=at)
        issued += 1
    return issued, skipped
