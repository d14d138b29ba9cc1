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
