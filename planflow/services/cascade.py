"""Cascading a plan down the tree: one drafted sub-plan per child committee, level by level.

Each sub-plan is pre-filled from its parent: the same sections (read through, not copied);
assignments mapped through the counterpart map (Sở LĐTBXH → Phòng LĐTBXH of that district;
the parent's duties for "UBND các quận" → every ward committee of the district; 'đề nghị' for
mass organisations); reporting deadlines derived level by level from the root plan's; and its
own report requests towards its standing agency. The depth is whatever the tree has.
Re-running creates nothing twice.

Set-based, level by level, for one plan or many at once (``cascade_plans``: the 63 provinces'
plans share each level's statements): the plans, assignments and report requests of a level
are computed in Python (titles, counterparts, duties, the units as they are on each deadline)
and written with the driver's ``executemany``; their deadlines are derived in SQL
(``INSERT … SELECT``) from what was just written. Plans are read back as plain rows, never as
ORM objects.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import insert
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from planflow.config.db import batched, constant, insert_many
from planflow.config.settings import get_settings
from planflow.models import (
    Assignment,
    Level,
    OrgUnit,
    Plan,
    PlanDeadline,
    ReportKind,
    ReportRequest,
    State,
    UnitKind,
)
from planflow.models.base import must_get, pk, table_of
from planflow.models.time import utcnow
from planflow.services import hierarchy
from planflow.services.deadlines import derive_deadline, next_working_day
from planflow.services.locks import begin_write
from planflow.services.plans import CITATION, get_plan
from planflow.services.succession import units_on_days
from planflow.states import LIVE, GuardFailed

SIGNATURE_BLOCK = "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
WARD_TYPES = ("phường", "xã", "thị trấn", "đặc khu")
PLAN = table_of(Plan)
ASSIGNMENT = table_of(Assignment)
DEADLINE = table_of(PlanDeadline)
REQUEST = table_of(ReportRequest)


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
    """The units under some committees, indexed for the cascade (loaded in one query)."""

    def __init__(
        self, session: Session, roots: list[OrgUnit], branch_ids: list[int] | None = None
    ) -> None:
        # tiers + 0: not an index SQLite could pick instead of the path's (it would scan a
        # whole tier scheme's units)
        tiers = sorted({r.tiers for r in roots})
        where = [(col(OrgUnit.tiers) + 0).in_(tiers), col(OrgUnit.active)]
        if len(roots) == 1 and branch_ids is None:
            (root,) = roots
            where.append((col(OrgUnit.id) == root.id) | _below(session, root.path))
        elif branch_ids is not None:  # the root, the bodies beside its children, the subtrees
            (root,) = roots
            paths = session.exec(
                select(col(OrgUnit.path)).where(col(OrgUnit.id).in_(branch_ids))
            ).all()
            scope = (col(OrgUnit.id) == root.id) | (col(OrgUnit.parent_id) == root.id)
            for branch in paths:
                scope = scope | _below(session, branch)
            where.append(scope)
        # several trees (the 63 provinces): their whole schemes, read in one pass; units outside
        # the roots' subtrees are never reached from a root, so they cost nothing but their rows
        # (an OR of a range per root made SQLite test every unit 63 times)
        # plain rows, not ORM objects: the cascade reads a few columns of thousands of units
        columns = [
            col(getattr(OrgUnit, name))
            for name in UnitRow.__annotations__  # the protocol's fields, in order
        ]
        rows = cast(
            "list[UnitRow]",
            session.execute(sa_select(*columns).where(*where).order_by(col(OrgUnit.code))).all(),
        )
        self.units: dict[int, UnitRow] = {cast(int, u.id): u for u in rows}
        self.committees: dict[int, list[UnitRow]] = defaultdict(list)
        self.by_role: dict[tuple[int, str], UnitRow] = {}
        self._roles: dict[tuple, str | None] = {}
        self._standing: dict[tuple, str | None] = {}
        self._labels: dict[int, str] = {}
        for unit in rows:  # in code order
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
        key = (committee.tiers, committee.level)
        if key not in self._standing:
            self._standing[key] = hierarchy.standing_role(*key)
        role = self._standing[key]
        return self.by_role.get((cast(int, committee.id), role)) if role else None


def _below(session: Session, path: str) -> Any:
    """The units under ``path``. SQLite's LIKE ignores the index on the path (it folds case),
    a range of the same paths uses it: '0' is the character after '/'."""
    if session.get_bind().dialect.name == "sqlite":
        return (col(OrgUnit.path) > path + "/") & (col(OrgUnit.path) < path + "0")
    return col(OrgUnit.path).startswith(path + "/", autoescape=True)


class PlanRow(NamedTuple):
    """The columns of a plan the cascade reads and writes (a plain row, not an ORM object)."""

    id: int
    parent_id: int | None
    root_id: int | None
    issuer_id: int
    standing_agency_id: int | None
    kind: str
    year: int
    title: str
    depth: int
    number: str | None
    issued_on: date | None


PLAN_COLUMNS = [PLAN.c[name] for name in PlanRow._fields]


@dataclass
class _Written:
    """What ``_create_sub_plans`` inserted: the new plans, their assignment rows, and how
    many deadline rows."""

    plans: list[PlanRow] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    deadlines: int = 0
    due_dates: set[date] = field(default_factory=set)
    # the reporting lines written, by (root plan, depth): (kind, period, due date)
    lines: dict[tuple[int, int], list[tuple[str, str, date]]] = field(default_factory=dict)


def cascade_plan(
    *, session: Session, plan_id: int, branch_ids: list[int] | None = None
) -> CascadeResult:
    """Create the missing sub-plans under a plan, all levels down; ``branch_ids`` limits the
    first level to those child committees (one batch of a flow)."""
    return cascade_plans(session=session, plan_ids=[plan_id], branch_ids=branch_ids)


def cascade_plans(
    *, session: Session, plan_ids: list[int], branch_ids: list[int] | None = None
) -> CascadeResult:
    """Create the missing sub-plans under several plans (the 63 provinces' plans, or whatever
    the reconcile found), all levels down, in this transaction: every plan's level is written
    by the same few statements. ``branch_ids`` (with one plan only) limits the first level to
    those child committees. The result's ``plan_id`` is the first plan's."""
    plan_ids = list(dict.fromkeys(plan_ids))
    if branch_ids is not None and len(plan_ids) != 1:
        raise ValueError("branch_ids limits the cascade of one plan")
    with _without_cyclic_gc():
        return _cascade(session, plan_ids, branch_ids)


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while a cascade builds its rows: tens of thousands of
    small dicts and tuples, none of them in a cycle, made each of its passes walk every object
    the process holds (0.3 s of the national cascade's 1.3 s). Reference counting still frees
    them; the collector resumes as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _cascade(
    session: Session, plan_ids: list[int], branch_ids: list[int] | None
) -> CascadeResult:
    begin_write(session)  # SQLite: a second cascade of this plan waits, then finds the rows
    tops = [get_plan(session, plan_id) for plan_id in plan_ids]
    for top in tops:
        if top.status == State.cancelled:
            raise GuardFailed(f"kế hoạch {top.id} đã bị hủy: không phân cấp")
    issuers = [must_get(session, OrgUnit, top.issuer_id) for top in tops]
    tree = TreeIndex(session, issuers, branch_ids)
    root_lines = _root_deadlines(session, [top.root_id or pk(top) for top in tops])
    roots = [PlanRow(*(getattr(top, name) for name in PlanRow._fields)) for top in tops]
    result = CascadeResult(plan_id=plan_ids[0] if plan_ids else 0)
    parents = roots
    branch_of: dict[int, str] = {}
    # the assignments of the plans the last level wrote, as written: the next level's
    # parents need not read them back
    known: dict[int, list[dict[str, Any]]] = {}
    while parents:
        pairs: list[tuple[PlanRow, UnitRow]] = []
        for parent in parents:
            for child in tree.committees.get(parent.issuer_id, []):
                if parent in roots and branch_ids is not None and child.id not in branch_ids:
                    continue
                pairs.append((parent, child))
                branch_of[child.id] = branch_of.get(parent.issuer_id, child.name)  # type: ignore[index]
        if not pairs:
            break
        wanted = {(p.id, c.id) for p, c in pairs}
        for attempt in range(1, 4):
            existing = {
                key: plan
                for key, plan in _existing_sub_plans(session, [p.id for p, _ in pairs]).items()
                if key in wanted
            }
            todo = [(p, c) for p, c in pairs if (p.id, c.id) not in existing]
            try:
                with session.begin_nested():
                    written = _create_sub_plans(session, tree, todo, root_lines, known)
                    requests = _insert_requests(session, written)
                break
            except IntegrityError:
                # another cascade of this plan committed some of these sub-plans first: they
                # are there now, read them again and write only what is still missing
                if attempt == 3:
                    raise
        result.existing += len(pairs) - len(todo)
        for _, child in todo:
            name = branch_of[child.id]  # type: ignore[index]
            result.created_by_branch[name] = result.created_by_branch.get(name, 0) + 1
        result.created += len(written.plans)
        result.rows_written += len(written.assignments) + written.deadlines
        result.requests_created += requests
        parents = [
            plan
            for plan in list(existing.values()) + written.plans
            if tree.committees.get(plan.issuer_id)
        ]
        known = {plan.id: [] for plan in written.plans}
        for row in written.assignments:
            known[row["plan_id"]].append(row)
    result.rows_written += result.created + result.requests_created
    session.flush()
    return result


def _root_deadlines(session: Session, tree_ids: list[int]) -> dict[int, list[PlanDeadline]]:
    """The reporting lines of these trees' root plans, by root plan."""
    lines: dict[int, list[PlanDeadline]] = defaultdict(list)
    for chunk in batched(sorted(set(tree_ids))):
        for line in session.exec(
            select(PlanDeadline)
            .where(col(PlanDeadline.plan_id).in_(chunk))
            .order_by(col(PlanDeadline.id))
        ):
            lines[line.plan_id].append(line)
    return lines


def _existing_sub_plans(
    session: Session, parent_ids: list[int]
) -> dict[tuple[int, int], PlanRow]:
    """The sub-plans of these plans, by (parent, issuer), as plain rows."""
    found: dict[tuple[int, int], PlanRow] = {}
    for chunk in batched(sorted(set(parent_ids))):
        for row in session.execute(
            sa_select(*PLAN_COLUMNS).where(PLAN.c.parent_id.in_(chunk))
        ).all():
            plan = PlanRow(*row)
            found[(plan.parent_id, plan.issuer_id)] = plan  # type: ignore[index]
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
            out.own[unit.id] = row  # type: ignore[index]
        elif unit.parent_id == parent_issuer:
            role = tree.counterpart_role(unit)
            if role:
                out.beside.append((row, role))
    return out


def _mapped_assignments(tree: TreeIndex, sources: _Sources, child: UnitRow) -> list[dict]:
    merged: dict[int, dict] = {}
    child_id = cast(int, child.id)

    def add(unit: UnitRow, source: dict, label: str | None) -> None:
        unit_id = cast(int, unit.id)
        if unit_id in merged:  # e.g. Sở KH&ĐT and Sở Tài chính both map to Phòng TC-KH
            merged[unit_id]["duties"] += "\n" + source["duties"]
            return
        merged[unit_id] = {
            "unit_id": unit_id,
            "role": source["role"],
            "requested": not unit.subordinate,
            "position": len(merged),
            "group_label": label,
            "duties": source["duties"],
        }

    for source, role in sources.beside:
        twin = tree.by_role.get((child_id, role))
        if twin is not None:
            add(twin, source, None)
    own = sources.own.get(child_id)
    if own is not None:
        wards = tree.committees.get(child_id, [])
        label = tree.ward_label(child_id) if wards else None
        for ward in wards:
            add(ward, own, label)
        if not wards:
            add(child, own, None)
    return list(merged.values())  # in position order: positions are given in insertion order


def _create_sub_plans(
    session: Session,
    tree: TreeIndex,
    todo: list[tuple[PlanRow, UnitRow]],
    root_lines: dict[int, list[PlanDeadline]],
    known: dict[int, list[dict[str, Any]]],
) -> _Written:
    """Insert the sub-plans of ``todo`` with their assignments and deadlines (plain rows, the
    new ids from the INSERT itself). ``known``: assignments of parents already in hand."""
    written = _Written()
    if not todo:
        return written
    parents = {p.id: p for p, _ in todo}
    assignments = _assignment_rows(session, sorted(p for p in parents if p not in known))
    assignments.update({p: known[p] for p in parents if p in known})
    sources = {
        pid: _sources(tree, p.issuer_id, assignments.get(pid, [])) for pid, p in parents.items()
    }
    preambles = {pid: _preamble(session, tree, p) for pid, p in parents.items()}
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
                "preamble": preambles[parent.id],
            }
        )
    insert_many(session, PLAN, rows)
    new_id = {
        (parent, issuer): plan_id
        for chunk in batched(sorted(parents))
        for plan_id, parent, issuer in session.execute(
            sa_select(PLAN.c.id, PLAN.c.parent_id, PLAN.c.issuer_id).where(
                PLAN.c.parent_id.in_(chunk)
            )
        )
    }
    ids = [new_id[(p.id, cast(int, c.id))] for p, c in todo]
    # sections are not copied: a sub-plan reads its parent's until it writes its own
    # (planflow.services.plans.sections_of); copies cost 258 M characters at national scale
    for (parent, child), row, plan_id in zip(todo, rows, ids, strict=True):
        written.plans.append(
            PlanRow(
                id=plan_id, parent_id=parent.id, root_id=row["root_id"],
                issuer_id=row["issuer_id"], standing_agency_id=row["standing_agency_id"],
                kind=parent.kind, year=parent.year, title=row["title"], depth=row["depth"],
                number=None, issued_on=None,
            )
        )
        for a in _mapped_assignments(tree, sources[parent.id], child):
            a["plan_id"] = plan_id
            written.assignments.append(a)
    insert_many(session, ASSIGNMENT, written.assignments)
    _insert_deadlines(session, written, root_lines)
    return written


def _insert_deadlines(
    session: Session, written: _Written, root_lines: dict[int, list[PlanDeadline]]
) -> None:
    """The new sub-plans' reporting deadlines, each root line's derived at their depth, to
    their standing agency: one INSERT … SELECT per distinct derived line and batch of plans
    (trees whose roots set the same dates share their statements)."""
    trees: dict[tuple[int, int], list[int]] = defaultdict(list)  # (root plan, depth): plans
    for plan in written.plans:
        trees[(plan.root_id or plan.id, plan.depth)].append(plan.id)
    plans_of: dict[tuple[str, str, date, date], list[int]] = defaultdict(list)
    for (root, depth), ids in trees.items():
        lines = written.lines[(root, depth)] = []
        for line in root_lines.get(root, []):
            due, upward = sub_plan_deadline(ReportKind(line.kind), line.due_on, depth)
            plans_of[(line.kind, line.period, due, upward)] += ids
            lines.append((line.kind, line.period, due))
    for (kind, period, due, upward), ids in plans_of.items():
        written.due_dates.add(due)
        for chunk in batched(ids):
            written.deadlines += _inserted(
                session,
                insert(DEADLINE).from_select(
                    ["plan_id", "recipient_id", "kind", "period", "due_on", "upward_due_on"],
                    sa_select(
                        PLAN.c.id,
                        PLAN.c.standing_agency_id,
                        constant(DEADLINE.c.kind, kind),
                        constant(DEADLINE.c.period, period),
                        constant(DEADLINE.c.due_on, due),
                        constant(DEADLINE.c.upward_due_on, upward),
                    ).where(PLAN.c.id.in_(chunk)),
                ),
            )


def _inserted(session: Session, statement: Any) -> int:
    """Run an INSERT … SELECT; how many rows it inserted, counted from RETURNING (psycopg
    gave -1 as the row count of these statements in the cascade)."""
    table = statement.table
    return len(session.execute(statement.returning(table.c.id)).all())


def _insert_requests(session: Session, written: _Written) -> int:
    """The new sub-plans' report requests: assigned unit × reporting line, to the plan's
    standing agency, the units as they are on the deadline (successions, DESIGN.md §11), none
    owed by the recipient or the issuer itself. Built from what was just written, in Python
    (a mapping of thousands of merged units is a dict here, a CASE of thousands of branches
    evaluated on every row in SQL), and written with the driver's ``executemany``."""
    if not written.plans:
        return 0
    units = {a["unit_id"] for a in written.assignments}
    units |= {p.standing_agency_id for p in written.plans if p.standing_agency_id}
    moved = {  # only the units another body stands for on some deadline
        day: {old: new for old, new in valid.items() if old != new}
        for day, valid in units_on_days(session, units, written.due_dates).items()
    }
    assigned: dict[int, list[int]] = defaultdict(list)
    for a in written.assignments:
        assigned[a["plan_id"]].append(a["unit_id"])
    now = utcnow()
    rows: dict[tuple, dict[str, Any]] = {}
    for plan in written.plans:
        for kind, period, due in written.lines.get((plan.root_id or plan.id, plan.depth), []):
            on_day = moved.get(due, {})
            recipient = plan.standing_agency_id
            recipient = on_day.get(recipient, recipient) if recipient else recipient
            for unit in assigned.get(plan.id, []):
                unit = on_day.get(unit, unit)
                if unit == plan.issuer_id or unit == recipient:
                    continue
                key = (plan.id, unit, kind, period)
                if key in rows:  # two assigned bodies one successor stands for: one request
                    continue
                rows[key] = {
                    "plan_id": plan.id, "unit_id": unit, "kind": kind, "period": period,
                    "deadline": due, "recipient_id": recipient, "status": State.drafted,
                    "late": False, "overdue": False, "version": 1, "created_at": now,
                }
    insert_many(session, REQUEST, list(rows.values()))
    return len(rows)


def _preamble(session: Session, tree: TreeIndex, parent: PlanRow) -> str:
    issuer = tree.units.get(parent.issuer_id) or must_get(session, OrgUnit, parent.issuer_id)
    number = parent.number or "…/KH-UBND"
    when = parent.issued_on.strftime("%d/%m/%Y") if parent.issued_on else "…"
    return f"{CITATION}{number} ngày {when} của UBND {issuer.name}"


def _assignment_rows(session: Session, plan_ids: list[int]) -> dict[int, list[dict]]:
    """The assignments of these plans as plain dicts, in plan order."""
    grouped: dict[int, list[dict]] = defaultdict(list)
    for chunk in batched(plan_ids):
        for row in session.execute(
            sa_select(
                ASSIGNMENT.c.plan_id, ASSIGNMENT.c.unit_id, ASSIGNMENT.c.role,
                ASSIGNMENT.c.duties,
            )
            .where(ASSIGNMENT.c.plan_id.in_(chunk))
            .order_by(ASSIGNMENT.c.plan_id, ASSIGNMENT.c.position)
        ).mappings():
            grouped[row["plan_id"]].append(dict(row))
    return grouped


__all__ = ["CascadeResult", "cascade_plan", "cascade_plans", "sub_plan_deadline"]


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
    plans = session.exec(
        select(col(Plan.id), col(Plan.issuer_id)).where(col(Plan.status).in_(LIVE))
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
