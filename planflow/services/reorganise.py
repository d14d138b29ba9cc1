"""The 1 July 2025 reorganisation: end the three-tier units of a province, record who took over
their work, and carry the open plans and requests across (DESIGN.md §11).

Nothing is rewritten in place that belongs to the past: reports already submitted or
aggregated stay with the unit that sent them and compile for their period on the old tree;
requests of periods due before the change stay too. What moves is the open work of later
periods: the annual request of Phường Mộ Lao goes to Phường Hà Đông on the city plan, due one
level's lead time before the city's deadline, to Sở Nội vụ. Several old wards landing on one new
commune become one request; each origin is kept in ``origins`` and in the audit. Plans of
abolished districts and merged wards are cancelled with a reason naming the change; the city
plan passes to the new province committee, whose new communes get their sub-plans through the
reconcile cascade. Running it again changes nothing.
"""

from __future__ import annotations

import gc
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from planflow.config.db import BATCH, INSERT_ROWS, batched
from planflow.config.successor_data import agency_successions, reorganisation, successions
from planflow.models import (
    Assignment,
    Level,
    OrgUnit,
    Plan,
    PlanDeadline,
    ReportRequest,
    Role,
    State,
    TransitionLog,
    UnitKind,
)
from planflow.models.base import table_of
from planflow.models.time import utcnow
from planflow.services import hierarchy
from planflow.services.deadlines import derive_deadline
from planflow.services.succession import _edge, _existing_edges, insert_edges, units_on
from planflow.states import CANCELLABLE, NotFound, ValidationFailed, fire_many
from planflow.vntext import vn_date

ACTOR = "planflow units reorganise"
COMMUNES_LABEL = "Ủy ban nhân dân các xã, phường"


@dataclass(frozen=True)
class Move:
    """One open request carried to a successor (``merged_into``: folded into another)."""

    request_id: int
    kind: str
    period: str
    origin_id: int
    target_unit_id: int
    target_plan_id: int
    deadline: date
    merged_into: int | None = None


@dataclass
class ReorganiseResult:
    """What the reorganisation did (or, on a dry run, would do)."""

    on: date
    provinces: list[str]
    units_ended: int = 0
    edges_added: int = 0
    plans_transferred: list[int] = field(default_factory=list)
    plans_cancelled: int = 0
    moves: list[Move] = field(default_factory=list)
    requests_cancelled: int = 0
    requests_created: int = 0
    assignments_added: int = 0
    recipients_updated: int = 0
    names: dict[int, str] = field(default_factory=dict)

    @property
    def moved(self) -> int:
        return sum(1 for m in self.moves if m.merged_into is None)

    @property
    def merged(self) -> int:
        return sum(1 for m in self.moves if m.merged_into is not None)

    def per_successor(self, kind: str | None = None) -> Counter[int]:
        """How many open requests (moved or merged) landed on each successor unit."""
        return Counter(m.target_unit_id for m in self.moves if kind in (None, m.kind))

    @property
    def changed(self) -> bool:
        return bool(
            self.units_ended or self.edges_added or self.plans_transferred
            or self.plans_cancelled or self.moves or self.requests_cancelled
            or self.requests_created or self.assignments_added or self.recipients_updated
        )


@dataclass
class _Scope:
    """The rows the reorganisation reads, as plain tuples keyed by id."""

    old: dict[int, Any]  # three-tier units of the provinces
    new: dict[int, Any]  # two-tier units of their successor provinces
    new_by_code: dict[str, Any]
    new_province: dict[str, int]  # old province code → new province committee id
    beside_new: dict[tuple[int, str], int]  # (new committee id, role) → agency id

    def province_code(self, unit: Any) -> str:
        return unit.path.split("/", 1)[0]


@contextmanager
def _batch() -> Iterator[None]:
    """No cyclic-GC passes while tens of thousands of rows are in hand: each full pass walks
    every live object, and they cost more than the work at national scale (nothing here makes
    reference cycles worth collecting before the end)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def reorganise(
    *, session: Session, province: str, on: date, actor: str = ACTOR
) -> ReorganiseResult:
    """Apply the map change of ``on`` (1/7/2025) to a province or ``"all"``; flushes, never
    commits: a dry run is the caller rolling back."""
    with _batch():
        return _reorganise(session=session, province=province, on=on, actor=actor)


def _reorganise(*, session: Session, province: str, on: date, actor: str) -> ReorganiseResult:
    change = reorganisation()
    if on != change.effective_on:
        raise ValidationFailed(
            f"--on {on:%Y-%m-%d}: planflow chỉ biết một lần sắp xếp đơn vị hành chính, có hiệu "
            f"lực từ {change.effective_on:%Y-%m-%d}"
        )
    refs = hierarchy.resolve_provinces(province, 3)
    loaded = {
        code
        for code in session.exec(
            select(OrgUnit.code).where(
                OrgUnit.tiers == 3, OrgUnit.depth == 0, OrgUnit.kind == UnitKind.committee
            )
        ).all()
    }
    codes = [r.code for r in refs if r.code in loaded]
    if not codes:
        raise NotFound(
            f"chưa nạp đơn vị ba cấp của {province!r}: không có gì để sắp xếp "
            f"(planflow units load --province {province!r} --tiers 3)"
        )
    data = successions()
    new_codes = sorted({data.provinces[c] for c in codes})
    for code in ["all"] if len(new_codes) > 30 else new_codes:
        hierarchy.load_units(session=session, province=code, tiers=2)
    scope = _read_scope(session, codes, new_codes, data.provinces)
    result = ReorganiseResult(on=on, provinces=codes)
    successor_of = _record_edges(session, scope, on, change.sources, result)
    _end_units(session, scope, on, result)
    plans = _plans(session, scope)
    transferred = _transfer_plans(session, scope, plans, on, actor, change.sources, result)
    _cancel_plans(session, scope, plans, successor_of, transferred, on, actor, change, result)
    _move_requests(session, scope, plans, successor_of, transferred, on, actor, change, result)
    _fill_communes(session, scope, plans, transferred, on, actor, result)
    _update_recipients(session, scope, plans, transferred, on, result)
    result.names.update({i: u.name for i, u in scope.new.items()})
    result.names.update({i: u.name for i, u in scope.old.items()})
    session.flush()
    return result


# -- reading ----------------------------------------------------------------------------------

_COLUMNS = (
    col(OrgUnit.id),
    col(OrgUnit.parent_id),
    col(OrgUnit.code),
    col(OrgUnit.name),
    col(OrgUnit.kind),
    col(OrgUnit.level),
    col(OrgUnit.role_key),
    col(OrgUnit.path),
    col(OrgUnit.valid_to),
    col(OrgUnit.valid_from),
    col(OrgUnit.active),
)


def _subtrees(session: Session, tiers: int, codes: list[str]) -> list[Any]:
    """The units of these provinces in one scheme: one read of the scheme, filtered here (a
    LIKE per province costs a scan each on SQLite)."""
    wanted = set(codes)
    rows = session.execute(sa_select(*_COLUMNS).where(col(OrgUnit.tiers) == tiers)).all()
    return [r for r in rows if r.path.split("/", 1)[0] in wanted]


def _read_scope(
    session: Session, codes: list[str], new_codes: list[str], provinces: dict[str, str]
) -> _Scope:
    old = {u.id: u for u in _subtrees(session, 3, codes)}
    new = {u.id: u for u in _subtrees(session, 2, new_codes)}
    by_code = {u.code: u for u in new.values() if u.kind == UnitKind.committee}
    beside = {(u.parent_id, u.role_key): u.id for u in new.values() if u.role_key}
    return _Scope(
        old=old,
        new=new,
        new_by_code=by_code,
        new_province={c: by_code[provinces[c]].id for c in codes},
        beside_new=beside,
    )


# -- the map: successor edges and ended units -------------------------------------------------


def _record_edges(
    session: Session, scope: _Scope, on: date, sources: dict[str, str], result: ReorganiseResult
) -> dict[int, int]:
    """Successor edges of the old committees and province bodies; returns each old unit's
    default successor valid from ``on`` (district bodies have none: their plans end)."""
    data = successions()
    by_role = [r for r in agency_successions() if r.to_level == Level.province]
    wanted: list[dict] = []
    default: dict[int, int] = {}
    committees_of: dict[str, list[int]] = defaultdict(list)
    for unit in scope.old.values():
        if unit.kind == UnitKind.committee:
            committees_of[scope.province_code(unit)].append(unit.id)
    merged_into = Counter(scope.new_province.values())
    for unit in scope.old.values():
        new_province = scope.new_province[scope.province_code(unit)]
        if unit.kind == UnitKind.committee and unit.level == Level.ward:
            found = data.wards.get(unit.code, ())
            for commune in found:
                target = scope.new_by_code[commune.code]
                wanted.append(_edge(unit.id, target.id, on, commune.whole, commune.default, "all",
                                    f"{data.source['package']} {data.source['version']}: "
                                    + sources["communes"][:300]))
            default_code = data.default_commune(unit.code)
            if found and default_code:
                default[unit.id] = scope.new_by_code[default_code].id
        elif unit.kind == UnitKind.committee:
            whole = unit.level == Level.province and merged_into[new_province] == 1
            key = "provinces" if unit.level == Level.province else "districts"
            wanted.append(_edge(unit.id, new_province, on, whole, True, "all", sources[key]))
            default[unit.id] = new_province
        elif unit.level == Level.province:  # a department or organisation of the province
            rule = next((r for r in by_role if r.from_role in ("*", unit.role_key)), None)
            target = scope.beside_new.get((new_province, unit.role_key or ""))
            if rule is None or target is None:
                continue  # its work went elsewhere before (LĐTBXH → Nội vụ): follow that edge
            wanted.append(_edge(unit.id, target, on, True, True, "all", rule.source))
            default[unit.id] = target
    have = _existing_edges(session, [e["predecessor_id"] for e in wanted])
    todo = [e for e in wanted if (e["predecessor_id"], e["successor_id"], e["matter"]) not in have]
    insert_edges(session, todo)
    result.edges_added = len(todo)
    # bodies whose work already passed to another body of the old province (LĐTBXH → Nội vụ)
    bodies = [u.id for u in scope.old.values()
              if u.kind != UnitKind.committee and u.level == Level.province]
    for unit_id, successor in units_on(session, bodies, on - timedelta(days=1)).items():
        if successor != unit_id and successor in default:
            default.setdefault(unit_id, default[successor])
    return default


def _end_units(session: Session, scope: _Scope, on: date, result: ReorganiseResult) -> None:
    last_day = on - timedelta(days=1)
    ended = [u.id for u in scope.old.values() if u.active or u.valid_to is None]
    for chunk in batched(ended):
        session.execute(
            update(OrgUnit).where(col(OrgUnit.id).in_(chunk), col(OrgUnit.valid_to).is_(None))
            .values(valid_to=last_day).execution_options(synchronize_session=False)
        )
        session.execute(
            update(OrgUnit).where(col(OrgUnit.id).in_(chunk))
            .values(active=False).execution_options(synchronize_session=False)
        )
    starting = [u.id for u in scope.new.values() if u.valid_from is None]
    for chunk in batched(starting):
        session.execute(
            update(OrgUnit).where(col(OrgUnit.id).in_(chunk))
            .values(valid_from=on).execution_options(synchronize_session=False)
        )
    result.units_ended = len(ended)


# -- plans ------------------------------------------------------------------------------------


@dataclass
class _Plans:
    rows: dict[int, Any]
    lines: dict[tuple[int, str, str], Any]  # (plan id, kind, period) → deadline line


def _plans(session: Session, scope: _Scope) -> _Plans:
    """Every plan of the trees the old units issued or take part in, as plain rows."""
    issuers = list(scope.old)
    roots: set[int] = set()
    for chunk in batched(issuers):
        for pid, root in session.execute(
            select(Plan.id, Plan.root_id).where(col(Plan.issuer_id).in_(chunk))
        ).all():
            roots.add(root or pid)
    rows: dict[int, Any] = {}
    root_list = sorted(roots)
    for chunk in batched(root_list, BATCH // 2):  # the chunk is bound twice
        for row in session.execute(
            sa_select(
                col(Plan.id), col(Plan.parent_id), col(Plan.root_id), col(Plan.issuer_id),
                col(Plan.depth), col(Plan.status),
                col(Plan.version), col(Plan.number), col(Plan.standing_agency_id),
            ).where(col(Plan.id).in_(chunk) | col(Plan.root_id).in_(chunk))
        ).all():
            rows[row.id] = row
    lines: dict[tuple[int, str, str], Any] = {}
    roots_and_tops = [p for p in rows.values() if p.parent_id is None]
    for plan in roots_and_tops:
        for line in session.execute(
            sa_select(col(PlanDeadline.plan_id), col(PlanDeadline.kind), col(PlanDeadline.period),
                   col(PlanDeadline.due_on), col(PlanDeadline.recipient_id))
            .where(PlanDeadline.plan_id == plan.id)
        ).all():
            lines[(line.plan_id, line.kind, line.period)] = line
    return _Plans(rows=rows, lines=lines)


def _audit(entity: str, entity_id: int, trigger: str, state: str, actor: str, reason: str) -> dict:
    return {
        "entity": entity,
        "entity_id": entity_id,
        "trigger": trigger,
        "from_state": state,
        "to_state": state,
        "actor": actor,
        "reason": reason,
        "at": utcnow(),
    }


def _transfer_plans(
    session: Session,
    scope: _Scope,
    plans: _Plans,
    on: date,
    actor: str,
    sources: dict[str, str],
    result: ReorganiseResult,
) -> dict[int, int]:
    """Open plans of an old province committee pass to the new one; returns {plan: issuer}."""
    transferred: dict[int, int] = {}
    audit = []
    for plan in plans.rows.values():
        issuer = scope.old.get(plan.issuer_id)
        new_issuer = plan.issuer_id
        province_committee = (
            issuer is not None
            and issuer.level == Level.province
            and issuer.kind == UnitKind.committee
        )
        if issuer is not None and province_committee:
            new_issuer = scope.new_province[scope.province_code(issuer)]
        elif plan.issuer_id in scope.new:
            transferred[plan.id] = plan.issuer_id  # done by an earlier run
            continue
        if new_issuer == plan.issuer_id or plan.status not in CANCELLABLE:
            continue
        transferred[plan.id] = new_issuer
        role = hierarchy.standing_role(2, Level.province)
        agency = scope.beside_new.get((new_issuer, role or ""))
        session.execute(
            update(Plan).where(Plan.id == plan.id, Plan.version == plan.version)
            .values(issuer_id=new_issuer, standing_agency_id=agency, version=plan.version + 1)
            .execution_options(synchronize_session=False)
        )
        audit.append(_audit(
            "plan", plan.id, "transfer", plan.status, actor,
            f"Từ {vn_date(on)}: UBND {scope.old[plan.issuer_id].name} "
            "(đơn vị hành chính trước sắp xếp) chuyển "
            f"kế hoạch cho UBND {scope.new[new_issuer].name}, cơ quan thường trực "
            f"{scope.new[agency].name if agency else 'chưa xác định'} ({sources['provinces']})",
        ))
        result.plans_transferred.append(plan.id)
    _insert_audit(session, audit)
    return transferred


def _cancel_plans(
    session: Session,
    scope: _Scope,
    plans: _Plans,
    successor_of: dict[int, int],
    transferred: dict[int, int],
    on: date,
    actor: str,
    change: Any,
    result: ReorganiseResult,
) -> None:
    reasons: dict[int, str] = {}
    for plan in plans.rows.values():
        issuer = scope.old.get(plan.issuer_id)
        if issuer is None or plan.id in transferred or plan.status not in CANCELLABLE:
            continue
        if issuer.level == Level.district:
            province = scope.new[scope.new_province[scope.province_code(issuer)]]
            reasons[plan.id] = (
                f"UBND {issuer.name} kết thúc hoạt động từ {vn_date(on)} "
                f"({change.sources['districts']}); nhiệm vụ chuyển cho UBND các xã, phường mới "
                f"và UBND {province.name}"
            )
        else:
            target = scope.new.get(successor_of.get(issuer.id, -1))
            into = f"; nhập vào {target.name}" if target else ""
            reasons[plan.id] = (
                f"UBND {issuer.name} kết thúc hoạt động từ {vn_date(on)}{into} "
                f"(sắp xếp đơn vị hành chính cấp xã năm 2025)"
            )
    cancelled = fire_many(session, Plan, sorted(reasons), "cancel", actor=actor, reasons=reasons,
                          at=None)
    result.plans_cancelled = len(cancelled)


# -- requests ---------------------------------------------------------------------------------


def _open_requests(session: Session, unit_ids: list[int], on: date) -> list[Any]:
    rows: list[Any] = []
    for chunk in batched(unit_ids):
        rows += session.execute(
            sa_select(
                col(ReportRequest.id), col(ReportRequest.plan_id), col(ReportRequest.unit_id),
                col(ReportRequest.kind), col(ReportRequest.period), col(ReportRequest.status),
                col(ReportRequest.deadline),
                col(ReportRequest.recipient_id),
                col(ReportRequest.version),
                col(ReportRequest.origins),
            ).where(
                col(ReportRequest.unit_id).in_(chunk),
                col(ReportRequest.status).in_(list(CANCELLABLE)),
                col(ReportRequest.deadline) >= on,
            )
        ).all()
    return sorted(rows, key=lambda r: r.id)


def _target_plan(
    plans: _Plans, transferred: dict[int, int], plan_id: int, parent_unit: int
) -> Any | None:
    """The nearest plan up the tree that the new parent committee now issues."""
    plan = plans.rows.get(plan_id)
    while plan is not None:
        if transferred.get(plan.id, plan.issuer_id) == parent_unit and plan.status in CANCELLABLE:
            return plan
        plan = plans.rows.get(plan.parent_id) if plan.parent_id else None
    return None


def _line(plans: _Plans, plan: Any, kind: str, period: str) -> Any | None:
    return plans.lines.get((plan.root_id or plan.id, kind, period))


def _move_requests(
    session: Session,
    scope: _Scope,
    plans: _Plans,
    successor_of: dict[int, int],
    transferred: dict[int, int],
    on: date,
    actor: str,
    change: Any,
    result: ReorganiseResult,
) -> None:
    requests = _open_requests(session, list(scope.old), on)
    standing = hierarchy.standing_role(2, Level.province) or ""
    cancel: dict[int, str] = {}
    landing: dict[tuple[int, int, str, str], list[tuple[Any, Any]]] = defaultdict(list)
    for request in requests:
        unit = scope.old[request.unit_id]
        target_id = successor_of.get(unit.id)
        if unit.level == Level.district or target_id is None:
            province = scope.new[scope.new_province[scope.province_code(unit)]]
            cancel[request.id] = (
                f"{_label(unit)} kết thúc hoạt động từ {vn_date(on)} "
                "("
                + (change.sources["districts"] if unit.level == Level.district else "sắp xếp 2025")
                +
                f"); nhiệm vụ chuyển cho UBND các xã, phường mới và UBND {province.name}"
            )
            continue
        target = scope.new[target_id]
        plan = _target_plan(plans, transferred, request.plan_id, target.parent_id or target_id)
        receiver = scope.beside_new.get((transferred.get(plan.id, -1), standing)) if plan else None
        if plan is None or target_id in (transferred.get(plan.id, plan.issuer_id), receiver):
            cancel[request.id] = (
                f"{_label(unit)} kết thúc hoạt động từ {vn_date(on)}; "
                f"{_label(target)} ban hành kế hoạch hoặc nhận báo cáo, không tự báo cáo cho mình"
            )
            continue
        landing[(plan.id, target_id, request.kind, request.period)].append((request, plan))
    existing = _existing_requests(session, {k[0] for k in landing}, {k[1] for k in landing})
    moves, audit, merges = [], [], {}
    origins_added: dict[int, list[int]] = defaultdict(list)
    for key, items in landing.items():
        plan_id, target_id, kind, period = key
        target = scope.new[target_id]
        found = existing.get(key)
        first, plan = items[0]
        line = _line(plans, plan, kind, period)
        due = line.due_on if line else first.deadline
        lower = plan.id != first.plan_id and target.kind == UnitKind.committee
        deadline = derive_deadline(due, 1) if lower else first.deadline
        if found is not None and found.status not in CANCELLABLE:
            for request, _ in items:
                cancel[request.id] = (
                    f"{_label(scope.old[request.unit_id])} kết thúc hoạt động từ {vn_date(on)}; "
                    f"{_label(target)} đã có yêu cầu {found.id} ({found.status}) cho kỳ này"
                )
            continue
        keep_id = found.id if found is not None else first.id
        rest = items if found is not None else items[1:]
        if found is None:
            moves.append({
                "b_id": first.id, "b_version": first.version, "plan_id": plan_id,
                "unit_id": target_id, "deadline": deadline,
                "origins": [*(first.origins or []), *(r.unit_id for r, _ in items)],
            })
            audit.append(_audit(
                "report_request", first.id, "transfer", first.status, actor,
                f"chuyển từ {_label(scope.old[first.unit_id])} sang {_label(target)} "
                f"từ {vn_date(on)}; hạn mới {vn_date(deadline)}",
            ))
            result.moves.append(Move(first.id, kind, period, first.unit_id, target_id, plan_id,
                                     deadline))
        for request, _ in rest:
            origin = scope.old[request.unit_id]
            merges[request.id] = (
                f"gộp vào yêu cầu {keep_id} của {_label(target)} "
                f"(chuyển từ {_label(origin)}, từ {vn_date(on)})"
            )
            if found is not None:
                origins_added[keep_id].append(origin.id)
            audit.append(_audit(
                "report_request", keep_id, "merge", found.status if found else first.status,
                actor, f"nhận thêm từ {_label(origin)} (yêu cầu {request.id})",
            ))
            result.moves.append(Move(request.id, kind, period, origin.id, target_id, plan_id,
                                     deadline, merged_into=keep_id))
    if moves:
        session.execute(
            update(table_of(ReportRequest))
            .where(
                table_of(ReportRequest).c.id == bindparam("b_id"),
                table_of(ReportRequest).c.version == bindparam("b_version"),
            )
            .values(
                plan_id=bindparam("plan_id"), unit_id=bindparam("unit_id"),
                deadline=bindparam("deadline"), origins=bindparam("origins"),
                version=table_of(ReportRequest).c.version + 1,
            ),
            moves,
        )
    for keep_id, extra in origins_added.items():  # requests already there (rare)
        before = session.scalar(select(ReportRequest.origins).where(ReportRequest.id == keep_id))
        session.execute(
            update(ReportRequest).where(col(ReportRequest.id) == keep_id)
            .values(origins=[*(before or []), *extra])
            .execution_options(synchronize_session=False)
        )
    # merged requests are cancelled, each with the request it joined
    result.requests_cancelled += len(
        fire_many(session, ReportRequest, sorted(merges), "cancel", actor=actor, reasons=merges)
    )
    result.requests_cancelled += len(
        fire_many(session, ReportRequest, sorted(cancel), "cancel", actor=actor, reasons=cancel)
    )
    result.requests_cancelled -= len(merges)
    _insert_audit(session, audit)


def _existing_requests(
    session: Session, plan_ids: set[int], unit_ids: set[int]
) -> dict[tuple[int, int, str, str], Any]:
    found = {}
    units = sorted(unit_ids)
    for chunk in batched(units):
        for row in session.execute(
            sa_select(col(ReportRequest.id), col(ReportRequest.plan_id), col(ReportRequest.unit_id),
                   col(ReportRequest.kind), col(ReportRequest.period), col(ReportRequest.status))
            .where(col(ReportRequest.unit_id).in_(chunk),
                   col(ReportRequest.plan_id).in_(sorted(plan_ids)))
        ).all():
            found[(row.plan_id, row.unit_id, row.kind, row.period)] = row
    return found


def _label(unit: Any) -> str:
    return f"UBND {unit.name}" if unit.kind == UnitKind.committee else unit.name


def _insert_audit(session: Session, rows: list[dict]) -> None:
    for chunk in batched(rows, INSERT_ROWS):
        session.execute(insert(table_of(TransitionLog)), chunk)


# -- the new communes on the transferred plans -----------------------------------------------


def _fill_communes(
    session: Session,
    scope: _Scope,
    plans: _Plans,
    transferred: dict[int, int],
    on: date,
    actor: str,
    result: ReorganiseResult,
) -> None:
    """Every new commune and body that now owes work under a transferred plan gets its
    assignment (the duties its predecessors' district had), and a request for each period due
    from ``on`` on that it does not have yet (a commune no old ward defaults to, say)."""
    if not transferred:
        return
    data = successions()
    plan_ids = sorted(transferred)
    assignments: dict[tuple[int, int], Any] = {}
    for row in session.execute(
        sa_select(
               col(Assignment.plan_id),
               col(Assignment.unit_id),
               col(Assignment.role),
               col(Assignment.duties),
               col(Assignment.position), col(Assignment.requested))
        .where(col(Assignment.plan_id).in_(plan_ids))
    ).all():
        assignments[(row.plan_id, row.unit_id)] = row
    position = Counter({pid: 0 for pid in plan_ids})
    for (pid, _), row in assignments.items():
        position[pid] = max(position[pid], row.position + 1)
    # who takes over what: new commune ← districts of its old wards; new body ← old body
    takes: dict[tuple[int, int], list[int]] = defaultdict(list)
    # an old province's plans only: where three provinces merged, a commune carries on the
    # plan of the province its wards belonged to, not its two neighbours'
    plans_of: dict[str, list[int]] = defaultdict(list)
    for pid in transferred:
        old_issuer = scope.old.get(plans.rows[pid].issuer_id)
        if old_issuer is not None:  # None on a re-run: the plan has its new issuer already
            plans_of[old_issuer.code].append(pid)
    for unit in scope.old.values():
        if unit.kind == UnitKind.committee and unit.level == Level.ward:
            pids = plans_of.get(scope.province_code(unit), ())
            for commune in data.wards.get(unit.code, ()) if pids else ():
                new = scope.new_by_code[commune.code]
                for pid in pids:
                    takes[(pid, new.id)].append(unit.parent_id)
    bodies = [
        (pid, unit_id) for pid, unit_id in assignments
        if unit_id in scope.old and scope.old[unit_id].kind != UnitKind.committee
        and scope.old[unit_id].level == Level.province
    ]
    # a department merged before (LĐTBXH → Nội vụ on 1/3) passes its work on as its successor
    merged = units_on(session, {u for _, u in bodies}, on - timedelta(days=1))
    for pid, unit_id in bodies:
        role = scope.old[unit_id].role_key or ""
        if merged.get(unit_id, unit_id) in scope.old:
            role = scope.old[merged.get(unit_id, unit_id)].role_key or role
        new_id = scope.beside_new.get((transferred[pid], role))
        if new_id is not None:
            takes[(pid, new_id)].append(unit_id)
    new_rows = []
    for (pid, unit_id), sources in sorted(takes.items()):
        if (pid, unit_id) in assignments:
            continue
        source = next((assignments[(pid, s)] for s in sources if (pid, s) in assignments), None)
        if source is None:
            continue
        unit = scope.new[unit_id]
        new_rows.append({
            "plan_id": pid, "unit_id": unit_id, "role": source.role or Role.lead,
            "requested": source.requested, "position": position[pid],
            "group_label": COMMUNES_LABEL if unit.kind == UnitKind.committee else None,
            "duties": source.duties,
        })
        position[pid] += 1
    for chunk in batched(new_rows, INSERT_ROWS):
        session.execute(insert(table_of(Assignment)), chunk)
    result.assignments_added = len(new_rows)
    # requests for the periods still to come, where no moved request landed
    have = _existing_requests(session, set(plan_ids), {u for _, u in takes})
    created = []
    standing = hierarchy.standing_role(2, Level.province) or ""
    lines_of: dict[int, list[tuple[str, str, Any]]] = defaultdict(list)
    for (line_plan, kind, period), line in plans.lines.items():
        if line.due_on >= on:
            lines_of[line_plan].append((kind, period, line))
    for (pid, unit_id) in sorted(takes):
        plan = plans.rows[pid]
        unit = scope.new[unit_id]
        agency = scope.beside_new.get((transferred[pid], standing))
        for kind, period, line in lines_of.get(plan.root_id or plan.id, ()):
            if (pid, unit_id, kind, period) in have or unit_id == agency:
                continue
            committee = unit.kind == UnitKind.committee
            deadline = derive_deadline(line.due_on, 1) if committee else line.due_on
            created.append({
                "plan_id": pid, "unit_id": unit_id, "kind": kind, "period": period,
                "deadline": deadline, "recipient_id": agency, "status": State.drafted,
                "late": False, "overdue": False, "version": 1, "origins": None,
            })
    for chunk in batched(created, INSERT_ROWS):
        session.execute(insert(table_of(ReportRequest)), chunk)
    result.requests_created = len(created)
    if created:
        ids = [
            r.id for r in session.execute(
                select(ReportRequest.id).where(
                    col(ReportRequest.plan_id).in_(plan_ids),
                    ReportRequest.status == State.drafted,
                )
            ).all()
        ]
        issued = [pid for pid in plan_ids if plans.rows[pid].status != State.drafted]
        if issued:
            fire_many(session, ReportRequest, ids, "issue", actor=actor)


def _update_recipients(
    session: Session,
    scope: _Scope,
    plans: _Plans,
    transferred: dict[int, int],
    on: date,
    result: ReorganiseResult,
) -> None:
    """Open requests and deadline lines of the transferred plans go to the new standing agency."""
    if not transferred:
        return
    role = hierarchy.standing_role(2, Level.province) or ""
    plan_ids = sorted(transferred)
    agency_of = {pid: scope.beside_new.get((issuer, role)) for pid, issuer in transferred.items()}
    rows = session.execute(
        select(ReportRequest.id, ReportRequest.plan_id, ReportRequest.recipient_id)
        .where(col(ReportRequest.plan_id).in_(plan_ids),
               col(ReportRequest.status).in_(list(CANCELLABLE)),
               ReportRequest.deadline >= on)
    ).all()
    changes = [
        {"b_id": r.id, "recipient": agency_of[r.plan_id]}
        for r in rows
        if agency_of[r.plan_id] and r.recipient_id != agency_of[r.plan_id]
    ]
    if changes:
        table = table_of(ReportRequest)
        session.execute(
            update(table).where(table.c.id == bindparam("b_id"))
            .values(recipient_id=bindparam("recipient")),
            changes,
        )
    for pid, agency in agency_of.items():
        if agency:
            session.execute(
                update(PlanDeadline)
                .where(col(PlanDeadline.plan_id) == pid, col(PlanDeadline.due_on) >= on,
                       func.coalesce(PlanDeadline.recipient_id, 0) != agency)
                .values(recipient_id=agency)
                .execution_options(synchronize_session=False)
            )
    result.recipients_updated = len(changes)


def describe(result: ReorganiseResult, *, dry_run: bool, limit: int = 30) -> list[str]:
    """The reorganisation in Vietnamese, as an operator reads it: counts, then where the open
    requests went, per new unit with the old units they came from."""
    head = "Chạy thử (không thay đổi dữ liệu): " if dry_run else ""
    verb = "sẽ" if dry_run else "đã"
    provinces = ", ".join(result.provinces[:10]) + ("…" if len(result.provinces) > 10 else "")
    lines = [
        f"{head}sắp xếp đơn vị hành chính từ {vn_date(result.on)}, "
        + f"{len(result.provinces)} tỉnh/thành phố ({provinces})",
        f"  Đơn vị {verb} kết thúc hoạt động: {result.units_ended:,}",
        f"  Quan hệ kế thừa {verb} ghi nhận: {result.edges_added:,}",
        f"  Kế hoạch {verb} chuyển cho UBND tỉnh/thành phố mới: {len(result.plans_transferred):,}",
        f"  Kế hoạch của quận, huyện, phường, xã cũ {verb} hủy: {result.plans_cancelled:,}",
        f"  Yêu cầu báo cáo {verb} chuyển: {result.moved:,}; gộp vào yêu cầu khác: "
        + f"{result.merged:,}; hủy: {result.requests_cancelled:,}; "
        + f"tạo mới: {result.requests_created:,}",
        f"  Phân công {verb} thêm: {result.assignments_added:,}; "
        + f"yêu cầu đổi nơi nhận: {result.recipients_updated:,}",
    ]
    if not result.changed:
        lines.append("  Không có gì thay đổi: việc sắp xếp này đã được thực hiện.")
        return lines
    origins: dict[int, list[int]] = defaultdict(list)
    for move in result.moves:
        origins[move.target_unit_id].append(move.origin_id)
    lines.append(f"  Yêu cầu đang mở theo đơn vị nhận ({len(origins):,} đơn vị):")
    for unit_id, olds in sorted(origins.items(), key=lambda kv: result.names[kv[0]])[:limit]:
        names = ", ".join(sorted(dict.fromkeys(result.names[o] for o in olds)))
        lines.append(f"    {result.names[unit_id]}: {len(olds)} (chuyển từ {names})")
    if len(origins) > limit:
        lines.append(f"    … và {len(origins) - limit:,} đơn vị khác")
    return lines


__all__ = ["Move", "ReorganiseResult", "describe", "reorganise"]
