"""Cascading a plan down the tree: one drafted sub-plan per child committee, level by level.

Each sub-plan is pre-filled from its parent: the same sections (read through, not copied);
assignments mapped through the counterpart map (Sở LĐTBXH → Phòng LĐTBXH of that district;
the parent's duties for "UBND các quận" → every ward committee of the district; 'đề nghị' for
mass organisations); reporting deadlines derived level by level from the root plan's; and its
own report requests towards its standing agency. The depth is whatever the tree has.
Re-running creates nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import insert
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from planflow.config.settings import get_settings
from planflow.models import (
    Assignment,
    Level,
    OrgUnit,
    Plan,
    PlanDeadline,
    ReportKind,
    State,
    UnitKind,
)
from planflow.models.base import must_get, pk
from planflow.services import hierarchy
from planflow.services.deadlines import derive_deadline, next_working_day
from planflow.services.locks import begin_write
from planflow.services.plans import CITATION, ensure_requests, get_plan
from planflow.states import GuardFailed

SIGNATURE_BLOCK = "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
WARD_TYPES = ("phường", "xã", "thị trấn", "đặc khu")


class UnitRow(Protocol):
    """The columns of an org unit the cascade reads: an ``OrgUnit`` or a plain row of them."""

    id: int | None
    parent_id: int | None
    code: str
    name: str
    kind: UnitKind
    level: Level
    tiers: int
    role_key: str | None
    subordinate: bool
    division_type: str | None


@dataclass
class CascadeResult:
    """What a cascade wrote: sub-plans created per top-level unit, and totals."""

    plan_id: int
    created_by_branch: dict[str, int] = field(default_factory=dict)
    existing: int = 0
    created: int = 0
    requests_created: int = 0
    rows_written: int = 0


class TreeIndex:
    """The units under one committee, indexed for the cascade (loaded in one query)."""

    def __init__(
        self, session: Session, root: OrgUnit, branch_ids: list[int] | None = None
    ) -> None:
        path = col(OrgUnit.path)
        if branch_ids is None:
            scope = (path == root.path) | path.startswith(root.path + "/")
        else:  # the root, the bodies beside its children, and only the chosen subtrees
            paths = session.exec(
                select(col(OrgUnit.path)).where(col(OrgUnit.id).in_(branch_ids))
            ).all()
            scope = (col(OrgUnit.id) == root.id) | (col(OrgUnit.parent_id) == root.id)
            for branch in paths:
                scope = scope | path.startswith(branch + "/")
        # plain rows, not ORM objects: the cascade reads a few columns of thousands of units
        columns = [
            col(getattr(OrgUnit, name))
            for name in UnitRow.__annotations__  # the protocol's fields, in order
        ]
        rows = cast(
            "list[UnitRow]",
            session.execute(
                sa_select(*columns).where(
                    col(OrgUnit.tiers) == root.tiers, col(OrgUnit.active), scope
                )
            ).all(),
        )
        self.units: dict[int, UnitRow] = {pk(u): u for u in rows}
        self.committees: dict[int, list[UnitRow]] = defaultdict(list)
        self.by_role: dict[tuple[int, str], UnitRow] = {}
        self._roles: dict[tuple, str | None] = {}
        self._labels: dict[int, str] = {}
        for unit in sorted(rows, key=lambda u: u.code):
            if unit.parent_id is None:
                continue
            if unit.kind == UnitKind.committee:
                self.committees[unit.parent_id].append(unit)
            elif unit.role_key:
                self.by_role[(unit.parent_id, unit.role_key)] = unit

    def counterpart_role(self, unit: UnitRow) -> str | None:
        """The role of the body below that mirrors ``unit`` (a department, a mass organisation)."""
        key = (unit.role_key or "", unit.tiers, unit.level)
        if key not in self._roles:
            self._roles[key] = hierarchy.counterpart_role(key[0], tiers=key[1], level=key[2])
        return self._roles[key]

    def ward_label(self, committee_id: int) -> str:
        """How a plan names the child committees of ``committee_id`` as a group."""
        if committee_id not in self._labels:
            self._labels[committee_id] = _ward_label(self.committees.get(committee_id, []))
        return self._labels[committee_id]

    def standing_agency(self, committee: UnitRow) -> UnitRow | None:
        role = hierarchy.standing_role(committee.tiers, committee.level)
        return self.by_role.get((pk(committee), role)) if role else None


def cascade_plan(
    *, session: Session, plan_id: int, branch_ids: list[int] | None = None
) -> CascadeResult:
    """Create the missing sub-plans under a plan, all levels down; ``branch_ids`` limits the
    first level to those child committees (one batch of a flow)."""
    begin_write(session)  # SQLite: a second cascade of this plan waits, then finds the rows
    root = get_plan(session, plan_id)
    if root.status == State.cancelled:
        raise GuardFailed(f"kế hoạch {plan_id} đã bị hủy: không phân cấp")
    issuer = must_get(session, OrgUnit, root.issuer_id)
    tree = TreeIndex(session, issuer, branch_ids)
    root_lines = _root_deadlines(session, root.root_id or plan_id)
    result = CascadeResult(plan_id=plan_id)
    parents = [root]
    branch_of: dict[int, str] = {}
    while parents:
        pairs: list[tuple[Plan, UnitRow]] = []
        for parent in parents:
            for child in tree.committees.get(parent.issuer_id, []):
                if parent is root and branch_ids is not None and child.id not in branch_ids:
                    continue
                pairs.append((parent, child))
                branch_of[pk(child)] = branch_of.get(parent.issuer_id, child.name)
        if not pairs:
            break
        wanted = {(p.id, c.id) for p, c in pairs}
        for attempt in range(1, 4):
            existing = {
                key: plan
                for key, plan in _existing_sub_plans(session, [pk(p) for p, _ in pairs]).items()
                if key in wanted
            }
            todo = [(p, c) for p, c in pairs if (p.id, c.id) not in existing]
            try:
                with session.begin_nested():
                    created, rows = _create_sub_plans(session, tree, todo, root_lines)
                    requests = ensure_requests(session, [pk(p) for p in created])
                break
            except IntegrityError:
                # another cascade of this plan committed some of these sub-plans first: they
                # are there now, read them again and write only what is still missing
                if attempt == 3:
                    raise
        result.existing += len(pairs) - len(todo)
        for _, child in todo:
            name = branch_of[pk(child)]
            result.created_by_branch[name] = result.created_by_branch.get(name, 0) + 1
        result.created += len(created)
        result.rows_written += rows
        result.requests_created += requests
        parents = [
            plan
            for plan in list(existing.values()) + created
            if tree.committees.get(plan.issuer_id)
        ]
    result.rows_written += result.created + result.requests_created
    session.flush()
    return result


def _root_deadlines(session: Session, tree_id: int) -> list[PlanDeadline]:
    return list(session.exec(select(PlanDeadline).where(PlanDeadline.plan_id == tree_id)).all())


def _existing_sub_plans(session: Session, parent_ids: list[int]) -> dict[tuple[int, int], Plan]:
    found: dict[tuple[int, int], Plan] = {}
    for start in range(0, len(parent_ids), 500):
        chunk = sorted(set(parent_ids[start : start + 500]))
        for plan in session.exec(select(Plan).where(col(Plan.parent_id).in_(chunk))).all():
            if plan.parent_id is not None:
                found[(plan.parent_id, plan.issuer_id)] = plan
    return found


def sub_plan_deadline(kind: ReportKind, root_due: date, depth: int) -> tuple[date, date]:
    """(due date for the sub-plan's units, due date of its own report upward) at ``depth``.

    Reports go up, so each level reports earlier than the one above (DESIGN.md §5). Unit plans
    go down, so each level's are due one lead later than the level above's.
    """
    if kind == ReportKind.sub_plan:
        lead = get_settings().lead_days_per_level
        due = next_working_day(root_due + timedelta(days=lead * depth))
        if depth <= 1:  # the level below the root owes its plan by the date the root wrote
            return due, root_due
        return due, next_working_day(root_due + timedelta(days=lead * (depth - 1)))
    return derive_deadline(root_due, depth + 1), derive_deadline(root_due, depth)


def _title_for(parent_title: str, child: UnitRow) -> str:
    base = parent_title.split(" trên địa bàn ")[0].rstrip()
    return f"{base} trên địa bàn {child.name}"


def _ward_label(wards: list[UnitRow]) -> str:
    kinds = [t for t in WARD_TYPES if any((w.division_type or "").lower() == t for w in wards)]
    return "Ủy ban nhân dân các " + ", ".join(kinds or ["phường"])


@dataclass
class _Sources:
    """A parent plan's assignments, sorted once for all its children: the committees' own
    duties by unit, and the bodies beside the issuer with the role their counterpart plays."""

    own: dict[int, dict] = field(default_factory=dict)
    beside: list[tuple[dict, str]] = field(default_factory=list)


def _sources(tree: TreeIndex, parent_issuer: int, rows: list[dict]) -> _Sources:
    out = _Sources()
    for row in rows:
        unit = tree.units.get(row["unit_id"])
        if unit is None:
            continue
        if unit.kind == UnitKind.committee:
            out.own[pk(unit)] = row
        elif unit.parent_id == parent_issuer:
            role = tree.counterpart_role(unit)
            if role:
                out.beside.append((row, role))
    return out


def _mapped_assignments(tree: TreeIndex, sources: _Sources, child: UnitRow) -> list[dict]:
    merged: dict[int, dict] = {}

    def add(unit: UnitRow, source: dict, label: str | None) -> None:
        if unit.id in merged:  # e.g. Sở KH&ĐT and Sở Tài chính both map to Phòng TC-KH
            merged[unit.id]["duties"] += "\n" + source["duties"]
            return
        merged[pk(unit)] = {
            "unit_id": unit.id,
            "role": source["role"],
            "requested": not unit.subordinate,
            "position": len(merged),
            "group_label": label,
            "duties": source["duties"],
        }

    for source, role in sources.beside:
        twin = tree.by_role.get((pk(child), role))
        if twin is not None:
            add(twin, source, None)
    own = sources.own.get(pk(child))
    if own is not None:
        wards = tree.committees.get(pk(child), [])
        for ward in wards:
            add(ward, own, tree.ward_label(pk(child)))
        if not wards:
            add(child, own, None)
    return sorted(merged.values(), key=lambda a: a["position"])


def _create_sub_plans(
    session: Session,
    tree: TreeIndex,
    todo: list[tuple[Plan, UnitRow]],
    root_lines: list[PlanDeadline],
) -> tuple[list[Plan], int]:
    """Insert the sub-plans of ``todo`` with their assignments and deadlines; returns the new
    plans and the number of assignment and deadline rows written."""
    if not todo:
        return [], 0
    parent_ids = sorted({pk(p) for p, _ in todo})
    assignments = _assignment_rows(session, parent_ids)
    sources = {
        pk(p): _sources(tree, p.issuer_id, assignments.get(pk(p), [])) for p, _ in todo
    }
    rows: list[dict[str, Any]] = []
    for parent, child in todo:
        agency = tree.standing_agency(child)
        rows.append(
            {
                "number": None,
                "kind": parent.kind,
                "year": parent.year,
                "title": _title_for(parent.title, child),
                "issuer_id": child.id,
                "standing_agency_id": agency.id if agency else None,
                "parent_id": parent.id,
                "root_id": parent.root_id or parent.id,
                "depth": parent.depth + 1,
                "status": State.drafted,
                "version": 1,
                "signature_block": SIGNATURE_BLOCK,
                "recipients": [],
                "preamble": _preamble(session, tree, parent),
            }
        )
    _insert(session, Plan, rows)
    new = _existing_sub_plans(session, parent_ids)
    created = [new[(pk(p), pk(c))] for p, c in todo]
    # sections are not copied: a sub-plan reads its parent's until it writes its own
    # (planflow.services.plans.sections_of); copies cost 258 M characters at national scale
    assignment_rows, deadline_rows = [], []
    for (parent, child), plan in zip(todo, created, strict=True):
        for a in _mapped_assignments(tree, sources[pk(parent)], child):
            assignment_rows.append({"plan_id": plan.id, **a})
        for line in root_lines:
            due, upward = sub_plan_deadline(ReportKind(line.kind), line.due_on, plan.depth)
            deadline_rows.append(
                {
                    "plan_id": plan.id,
                    "kind": line.kind,
                    "period": line.period,
                    "due_on": due,
                    "upward_due_on": upward,
                    "recipient_id": plan.standing_agency_id,
                }
            )
    _insert(session, Assignment, assignment_rows)
    _insert(session, PlanDeadline, deadline_rows)
    return created, len(assignment_rows) + len(deadline_rows)


def _preamble(session: Session, tree: TreeIndex, parent: Plan) -> str:
    issuer = tree.units.get(parent.issuer_id) or must_get(session, OrgUnit, parent.issuer_id)
    number = parent.number or "…/KH-UBND"
    when = parent.issued_on.strftime("%d/%m/%Y") if parent.issued_on else "…"
    return f"{CITATION}{number} ngày {when} của UBND {issuer.name}"


def _assignment_rows(session: Session, plan_ids: list[int]) -> dict[int, list[dict]]:
    """The assignments of these plans as plain dicts, in plan order."""
    grouped: dict[int, list[dict]] = defaultdict(list)
    for start in range(0, len(plan_ids), 500):
        chunk = plan_ids[start : start + 500]
        for row in session.execute(
            select(Assignment.plan_id, Assignment.unit_id, Assignment.role, Assignment.duties)
            .where(col(Assignment.plan_id).in_(chunk))
            .order_by(col(Assignment.plan_id), col(Assignment.position))
        ).mappings():
            grouped[row["plan_id"]].append(dict(row))
    return grouped


def _insert(session: Session, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), 2000):  # Core insert: one executemany per chunk
        session.execute(insert(model.__table__), rows[start : start + 2000])


__all__ = ["CascadeResult", "cascade_plan", "sub_plan_deadline"]


def branches(session: Session, plan_id: int) -> list[tuple[int, int]]:
    """The child committees of the plan's issuer (the first level of its cascade), in code
    order, each with the number of units in its subtree (itself included)."""
    issuer = must_get(session, OrgUnit, get_plan(session, plan_id).issuer_id)
    sizes = hierarchy.subtree_sizes(session, issuer)
    children = sorted(hierarchy.child_committees(session, pk(issuer)), key=lambda u: u.code)
    return [(pk(child), sizes.get(child.path, 1)) for child in children]


def plans_needing_cascade(session: Session) -> list[int]:
    """Live plans (issued, acknowledged, submitted) with an active child committee of their
    issuer that has no sub-plan yet: a unit added later, or a sub-plan not cascaded."""
    live = (State.issued, State.acknowledged, State.submitted)
    plans = session.exec(
        select(col(Plan.id), col(Plan.issuer_id)).where(col(Plan.status).in_(live))
    ).all()
    children: dict[int, set[int]] = defaultdict(set)
    for parent_id, unit_id in session.exec(
        select(col(OrgUnit.parent_id), col(OrgUnit.id)).where(
            col(OrgUnit.kind) == UnitKind.committee,
            col(OrgUnit.active),
            col(OrgUnit.parent_id).is_not(None),
        )
    ).all():
        if parent_id is not None and unit_id is not None:
            children[parent_id].add(unit_id)
    covered: dict[int, set[int]] = defaultdict(set)
    for parent_id, issuer_id in session.exec(
        select(col(Plan.parent_id), col(Plan.issuer_id)).where(col(Plan.parent_id).is_not(None))
    ).all():
        if parent_id is not None:
            covered[parent_id].add(issuer_id)
    return [pid for pid, issuer in plans if pid is not None and children[issuer] - covered[pid]]
