"""Small hand-built objects for tests; each test owns the data it makes."""

from __future__ import annotations

from datetime import date
from itertools import count

from sqlmodel import Session

from planflow.models import (
    Assignment,
    Level,
    OrgUnit,
    Plan,
    ReportKind,
    ReportRequest,
    State,
    UnitKind,
)

_seq = count(1)


def unit(
    session: Session,
    name: str,
    *,
    level: Level = Level.province,
    kind: UnitKind = UnitKind.committee,
    parent: OrgUnit | None = None,
    code: str | None = None,
    role_key: str | None = None,
    subordinate: bool = True,
    tiers: int = 3,
    **fields,
) -> OrgUnit:
    code = code or f"T{next(_seq):05d}"
    row = OrgUnit(
        tiers=tiers,
        code=code,
        name=name,
        level=level,
        kind=kind,
        parent_id=parent.id if parent else None,
        depth=(parent.depth + 1) if parent else 0,
        path=f"{parent.path}/{code}" if parent else code,
        role_key=role_key,
        subordinate=subordinate,
        **fields,
    )
    session.add(row)
    session.flush()
    return row


def plan(session: Session, issuer: OrgUnit, *, year: int = 2025, **fields) -> Plan:
    row = Plan(year=year, title=fields.pop("title", f"Kế hoạch thử {year}"), issuer_id=issuer.id)
    for key, value in fields.items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    return row


def assignment(session: Session, plan_row: Plan, unit_row: OrgUnit, **fields) -> Assignment:
    row = Assignment(plan_id=plan_row.id, unit_id=unit_row.id, duties="Thực hiện", **fields)
    session.add(row)
    session.flush()
    return row


def request(
    session: Session,
    plan_row: Plan,
    unit_row: OrgUnit,
    *,
    kind: ReportKind = ReportKind.six_month,
    period: str = "2025-H1",
    deadline: date = date(2025, 5, 30),
    status: State = State.drafted,
    **fields,
) -> ReportRequest:
    row = ReportRequest(
        plan_id=plan_row.id,
        unit_id=unit_row.id,
        kind=kind,
        period=period,
        deadline=deadline,
        status=status,
        **fields,
    )
    session.add(row)
    session.flush()
    return row


CITY_ROLES = [
    "labour", "women_union", "home_affairs", "justice", "education", "information",
    "health", "culture", "statistics", "planning_investment", "finance", "fatherland_front",
]


def hanoi_plan(session: Session, *, number: str = "1/KH-UBND", issue: bool = True) -> Plan:
    """A 2025 city plan over the loaded Hà Nội tree: the seed's departments, every district,
    and its reporting regime (unit plans 15/02, six-month 30/5, annual 30/11)."""
    from sqlmodel import select

    from planflow.models import PlanDeadline
    from planflow.services import hierarchy
    from planflow.states import fire

    city = session.exec(select(OrgUnit).where(OrgUnit.tiers == 3, OrgUnit.code == "01")).one()
    labour = hierarchy.standing_agency(session, city)
    row = Plan(
        year=2025,
        title="Triển khai thực hiện công tác bình đẳng giới và vì sự tiến bộ của phụ nữ năm 2025",
        issuer_id=city.id,
        standing_agency_id=labour.id,
        number=number,
        issued_on=date(2025, 1, 20),
        signer_name="Vũ Thu Hà",
    )
    session.add(row)
    session.flush()
    by_role = {u.role_key: u for u in hierarchy.children(session, city.id) if u.role_key}
    position = 0
    for role in CITY_ROLES:
        unit_row = by_role[role]
        session.add(
            Assignment(
                plan_id=row.id, unit_id=unit_row.id, duties=f"Nhiệm vụ của {unit_row.name}",
                position=position, requested=not unit_row.subordinate,
            )
        )
        position += 1
    for district in hierarchy.child_committees(session, city.id):
        session.add(
            Assignment(
                plan_id=row.id, unit_id=district.id, position=position,
                duties="Xây dựng và tổ chức thực hiện Kế hoạch năm 2025 của địa phương.",
                group_label="Ủy ban nhân dân các quận, huyện, thị xã",
            )
        )
        position += 1
    for kind, period, due in [
        (ReportKind.sub_plan, "2025", date(2025, 2, 15)),
        (ReportKind.six_month, "2025-H1", date(2025, 5, 30)),
        (ReportKind.annual, "2025", date(2025, 11, 30)),
    ]:
        session.add(
            PlanDeadline(
                plan_id=row.id, kind=kind, period=period, due_on=due, recipient_id=labour.id
            )
        )
    session.flush()
    if issue:
        fire(session, row, "issue", actor="test")
    return row


def hanoi_units(session: Session) -> None:
    """Hà Nội's three-tier hierarchy, as ``load_units(province="Hà Nội", tiers=3)`` writes it
    (loaded for real by the first test of each backend, copied for the rest)."""
    from planflow.services.hierarchy import load_units
    from tests.conftest import built_once

    built_once(
        session, "hanoi-3", lambda s: load_units(session=s, province="Hà Nội", tiers=3)
    )
