"""Units with dates: which body is meant on a given day, and the agency changes of 2025.

A unit that ended keeps its row (the historic tree stays queryable); ``unit_successor`` says
who took over its work from which day. ``unit_on`` follows those edges (the default successor
where a unit was split) to the body valid on a day: Phòng Lao động - Thương binh và Xã hội
quận Long Biên on 28/02/2025, Phòng Nội vụ quận Long Biên from 01/03/2025.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from planflow.config.db import INSERT_ROWS, batched
from planflow.config.successor_data import agency_successions
from planflow.models import OrgUnit, UnitKind, UnitSuccessor
from planflow.models.base import table_of

MAX_HOPS = 6  # LĐTBXH → Nội vụ → Nội vụ of the merged province: a chain is short


def unit_on(session: Session, unit_id: int, day: date, matter: str | None = None) -> int:
    """The id of the body doing ``unit_id``'s work on ``day``: itself, or its (default)
    successor from the day the change took effect, followed as far as ``day`` reaches."""
    current = unit_id
    for _ in range(MAX_HOPS):
        query = select(UnitSuccessor.successor_id).where(
            UnitSuccessor.predecessor_id == current,
            UnitSuccessor.default,
            UnitSuccessor.effective_on <= day,
        )
        if matter is not None:
            query = query.where(col(UnitSuccessor.matter).in_([matter, "all"]))
        nxt = session.exec(query.order_by(col(UnitSuccessor.effective_on).desc())).first()
        if nxt is None or nxt == current:
            return current
        current = nxt
    return current


def units_on(session: Session, unit_ids: Iterable[int], day: date) -> dict[int, int]:
    """``unit_on`` for many units at once, as {unit id: id of the body valid on ``day``}."""
    wanted = {i for i in unit_ids if i is not None}
    edges: dict[int, tuple[date, int]] = {}
    frontier = set(wanted)
    for _ in range(MAX_HOPS):
        if not frontier:
            break
        found = session.execute(
            sa_select(
                col(UnitSuccessor.predecessor_id),
                col(UnitSuccessor.successor_id),
                col(UnitSuccessor.effective_on),
            ).where(
                col(UnitSuccessor.predecessor_id).in_(sorted(frontier)),
                col(UnitSuccessor.default),
                col(UnitSuccessor.effective_on) <= day,
            )
        ).all()
        frontier = set()
        for pred, succ, on in found:
            if pred not in edges or on > edges[pred][0]:
                edges[pred] = (on, succ)
                if succ not in edges:
                    frontier.add(succ)
    out = {}
    for unit_id in wanted:
        current = unit_id
        for _ in range(MAX_HOPS):
            if current not in edges:
                break
            current = edges[current][1]
        out[unit_id] = current
    return out


def units_on_days(
    session: Session, unit_ids: Iterable[int], days: Iterable[date]
) -> dict[date, dict[int, int]]:
    """``units_on`` for several days at once (the succession edges read once), as
    {day: {unit id: id of the body valid on that day}}."""
    days = sorted(set(days))
    if not days:
        return {}
    wanted = {i for i in unit_ids if i is not None}
    edges: dict[int, list[tuple[date, int]]] = {}
    frontier = set(wanted)
    for _ in range(MAX_HOPS):
        if not frontier:
            break
        found = [
            row
            for chunk in batched(sorted(frontier))
            for row in session.execute(
                sa_select(
                    col(UnitSuccessor.predecessor_id),
                    col(UnitSuccessor.successor_id),
                    col(UnitSuccessor.effective_on),
                ).where(
                    col(UnitSuccessor.predecessor_id).in_(chunk),
                    col(UnitSuccessor.default),
                    col(UnitSuccessor.effective_on) <= days[-1],
                )
            ).all()
        ]
        frontier = set()
        for pred, succ, on in found:
            edges.setdefault(pred, []).append((on, succ))
            if succ not in edges:
                frontier.add(succ)
    out: dict[date, dict[int, int]] = {}
    for day in days:
        step = {  # the latest edge in force on ``day``, per unit (as ``units_on``)
            pred: max((e for e in out_edges if e[0] <= day), default=None)
            for pred, out_edges in edges.items()
        }
        valid = {}
        for unit_id in wanted:
            current = unit_id
            for _ in range(MAX_HOPS):
                edge = step.get(current)
                if edge is None:
                    break
                current = edge[1]
            valid[unit_id] = current
        out[day] = valid
    return out


def record_agency_successions(session: Session, province_codes: Iterable[str]) -> int:
    """Record the configured changes between agencies beside the same committee (1/3/2025:
    LĐTBXH → Nội vụ) for these loaded three-tier provinces; returns the edges added."""
    provinces = set(province_codes)
    rules = [r for r in agency_successions() if r.to_level is None and r.tiers == 3]
    if not rules or not provinces:
        return 0
    roles = {r.from_role for r in rules} | {r.to_role for r in rules if r.to_role}
    rows = session.execute(
        sa_select(
            col(OrgUnit.id),
            col(OrgUnit.parent_id),
            col(OrgUnit.level),
            col(OrgUnit.role_key),
            col(OrgUnit.path),
        ).where(
            col(OrgUnit.tiers) == 3,
            col(OrgUnit.kind) == UnitKind.agency,
            col(OrgUnit.role_key).in_(sorted(roles)),
        )
    ).all()
    beside = {
        (r.parent_id, r.role_key): r for r in rows if r.path.split("/", 1)[0] in provinces
    }
    have = _existing_edges(session, [r.id for r in beside.values()])
    edges, ended = [], []
    for (parent_id, role), row in beside.items():
        for rule in rules:
            if rule.from_role != role or rule.level != row.level:
                continue
            target = beside.get((parent_id, rule.to_role))
            if target is None or (row.id, target.id, rule.matter) in have:
                continue
            edges.append(_edge(row.id, target.id, rule.effective_on, rule.whole, True,
                               rule.matter, rule.source))
            ended.append((row.id, rule.effective_on - timedelta(days=1)))
    insert_edges(session, edges)
    for unit_id, last_day in ended:
        session.execute(
            update(OrgUnit)
            .where(col(OrgUnit.id) == unit_id, col(OrgUnit.valid_to).is_(None))
            .values(valid_to=last_day)
        )
    return len(edges)


def _edge(
    pred: int, succ: int, on: date, whole: bool, default: bool, matter: str, source: str
) -> dict:
    return {
        "predecessor_id": pred,
        "successor_id": succ,
        "effective_on": on,
        "whole": whole,
        "default": default,
        "matter": matter,
        "source": source[:400],
    }


def _existing_edges(session: Session, pred_ids: list[int]) -> set[tuple[int, int, str]]:
    have: set[tuple[int, int, str]] = set()
    for chunk in batched(pred_ids):
        have.update(
            (p, s, m)
            for p, s, m in session.execute(
                select(
                    UnitSuccessor.predecessor_id, UnitSuccessor.successor_id, UnitSuccessor.matter
                ).where(col(UnitSuccessor.predecessor_id).in_(chunk))
            ).all()
        )
    return have


def insert_edges(session: Session, edges: list[dict]) -> None:
    """Insert successor edges (Core executemany, in chunks)."""
    for chunk in batched(edges, INSERT_ROWS):
        session.execute(insert(table_of(UnitSuccessor)), chunk)


def successors(session: Session, unit_id: int) -> list[tuple[OrgUnit, UnitSuccessor]]:
    """Who took over ``unit_id``'s work: each successor with its edge, the default first."""
    rows = session.exec(
        select(OrgUnit, UnitSuccessor)
        .join(UnitSuccessor, col(UnitSuccessor.successor_id) == col(OrgUnit.id))
        .where(UnitSuccessor.predecessor_id == unit_id)
    ).all()
    return sorted(rows, key=lambda r: (not r[1].default, r[0].code))


def predecessors(session: Session, unit_id: int) -> list[tuple[OrgUnit, UnitSuccessor]]:
    """The units whose work passed (whole or in part) to ``unit_id``."""
    rows = session.exec(
        select(OrgUnit, UnitSuccessor)
        .join(UnitSuccessor, col(UnitSuccessor.predecessor_id) == col(OrgUnit.id))
        .where(UnitSuccessor.successor_id == unit_id)
    ).all()
    return sorted(rows, key=lambda r: r[0].code)


__all__ = [
    "insert_edges",
    "predecessors",
    "record_agency_successions",
    "successors",
    "unit_on",
    "units_on",
]
