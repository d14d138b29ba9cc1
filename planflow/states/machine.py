"""The machines, built once per process, and ``fire``: the one way a plan or request changes state.

``transitions`` cannot be bound to a SQLModel row, so each trigger runs on a light ``Subject``
that carries the row's state. ``fire`` then writes the new state with a version check (two
sessions cannot both move the same row) and the audit row, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import attributes
from sqlmodel import Session, SQLModel, col
from transitions import EventData, Machine, MachineError

from planflow.config.db import batched, constant, rows_affected
from planflow.models import Assignment, Plan, ReportRequest, State, TransitionLog
from planflow.models.base import pk, table_of
from planflow.models.time import as_utc, utcnow
from planflow.states.errors import ConcurrentTransition, GuardFailed, IllegalTransition
from planflow.states.tables import MOVES, Move
from planflow.vntext import kind_vi

ENTITY_OF: dict[type[SQLModel], str] = {Plan: "plan", ReportRequest: "report_request"}

_via_link: ContextVar[int | None] = ContextVar("planflow_via_link", default=None)


@contextmanager
def via_link(link_id: int) -> Iterator[None]:
    """Inside the block, every audit row written records the portal access link ``link_id``."""
    token = _via_link.set(link_id)
    try:
        yield
    finally:
        _via_link.reset(token)


@dataclass
class Subject:
    """What a machine fires on: the row's state, the row, and the trigger's context."""

    row: Any
    session: Session
    state: State
    actor: str
    reason: str | None = None
    at: datetime = field(default_factory=utcnow)
    extra: Mapping[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    refusal: str | None = None  # set by the first guard that refuses

    @property
    def label(self) -> str:
        return describe(self.row)


def describe(row: Any) -> str:
    """A short name for a row in error messages: ``report request 12 (six_month 2025-H1)``."""
    if isinstance(row, Plan):
        return f"kế hoạch {row.id} ({row.number or 'chưa có số'})"
    if isinstance(row, ReportRequest):
        return f"yêu cầu báo cáo {row.id} ({kind_vi(row.kind)} {row.period}, đơn vị {row.unit_id})"
    return f"{type(row).__name__} {getattr(row, 'id', '?')}"


TRIGGER_VI = {"issue": "ban hành", "acknowledge": "tiếp nhận", "submit": "nộp báo cáo",
              "return": "trả lại", "aggregate": "tổng hợp", "cancel": "huỷ"}
ENTITY_VI = {"plan": "kế hoạch", "report_request": "yêu cầu báo cáo"}


# --- guards: pure functions of the subject (row and context); each returns why it refuses, or None


def _reason_given(subject: Subject, trigger: str) -> str | None:
    if not (subject.reason or "").strip():
        return f"{subject.label}: cần nêu lý do để {TRIGGER_VI.get(trigger, trigger)}"
    return None


def _deadline_set(subject: Subject, trigger: str) -> str | None:
    if subject.row.deadline is None:
        return f"{subject.label}: cần có hạn báo cáo trước khi {TRIGGER_VI.get(trigger, trigger)}"
    return None


def _content_valid(subject: Subject, trigger: str) -> str | None:
    problems = subject.extra.get("problems") or []
    if problems:
        return f"{subject.label}: không nhận báo cáo: {'; '.join(problems)}"
    if not subject.extra.get("content_checked"):
        return f"{subject.label}: nội dung báo cáo chưa được kiểm tra"
    return None


STATE_VI = {
    State.drafted: "dự thảo",
    State.issued: "đã ban hành",
    State.acknowledged: "đã tiếp nhận",
    State.submitted: "đã báo cáo",
    State.aggregated: "đã tổng hợp",
    State.cancelled: "đã huỷ",
}


def issuable_problems(session: Session, plan: Plan) -> list[str]:
    """What keeps a plan from being issued, in Vietnamese (empty: it can be issued)."""
    problems = [
        what
        for what, value in (
            ("số, ký hiệu văn bản", plan.number),
            ("ngày ban hành", plan.issued_on),
            ("người ký", plan.signer_name),
        )
        if not value
    ]
    count = session.scalar(
        select(func.count()).select_from(Assignment).where(col(Assignment.plan_id) == plan.id)
    )
    if not count:
        problems.append("ít nhất một đơn vị được giao nhiệm vụ")
    if plan.parent_id is not None:
        parent = session.get(Plan, plan.parent_id)
        if parent is None or parent.status in (State.drafted, State.cancelled):
            state = STATE_VI[State(parent.status)] if parent else "không tồn tại"
            problems.append(f"kế hoạch cấp trên {plan.parent_id} ban hành trước (hiện {state})")
    return problems


def not_issuable_message(plan: Plan, problems: list[str]) -> str:
    """One line naming the plan and everything it still lacks."""
    name = f"Kế hoạch {plan.id}" + (f" ({plan.number})" if plan.number else "")
    return f"{name} chưa thể ban hành, còn thiếu: {'; '.join(problems)}"


def _plan_issuable(subject: Subject, trigger: str) -> str | None:
    """Reads the plan's assignments and parent through the subject's session; writes nothing."""
    problems = issuable_problems(subject.session, subject.row)
    return not_issuable_message(subject.row, problems) if problems else None


Guard = Callable[[Subject, str], str | None]

GUARDS: dict[str, Guard] = {
    "reason_given": _reason_given,
    "deadline_set": _deadline_set,
    "content_valid": _content_valid,
    "plan_issuable": _plan_issuable,
}


def _condition(guard: Guard) -> Callable[[EventData], bool]:
    """A guard as a ``transitions`` condition: true when it has no reason to refuse; the
    reason is kept on the subject for ``fire`` to raise."""

    def check(ev: EventData) -> bool:
        subject = cast(Subject, ev.model)
        refusal = guard(subject, ev.event.name)
        if refusal is not None:
            subject.refusal = refusal
        return refusal is None

    return check


def _transitions_of(moves: tuple[Move, ...]) -> list[dict[str, Any]]:
    return [
        {
            "trigger": m.trigger,
            "source": list(m.sources),
            "dest": m.dest,
            "conditions": [_condition(GUARDS[g]) for g in m.guards],
        }
        for m in moves
    ]


@cache
def machine_for(entity: str) -> Machine:
    """The machine of ``plan`` or ``report_request``, built once per process."""
    return Machine(
        model=None,
        states=list(State),
        transitions=_transitions_of(MOVES[entity]),
        initial=None,
        auto_transitions=False,
        send_event=True,
    )


def allowed_triggers(entity: str, state: State | str) -> list[str]:
    """The triggers the table allows from a state, in table order."""
    return [m.trigger for m in MOVES[entity] if State(state) in m.sources]


def fire(
    session: Session,
    row: Plan | ReportRequest,
    trigger: str,
    *,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
    values: Mapping[str, Any] | None = None,
    **extra: Any,
) -> State:
    """Move ``row`` by ``trigger``; write the state and the audit row in the session's transaction.

    ``values``: other columns the caller's service sets with the move (a submission's time and
    lateness), written in the same versioned UPDATE. ``extra`` is the guards' context.
    Raises IllegalTransition if the state does not allow the trigger, GuardFailed if a guard
    refuses it, ConcurrentTransition if another session moved the row first. On any of these
    nothing is written.
    """
    entity = ENTITY_OF[type(row)]
    machine = machine_for(entity)
    before = State(row.status)
    subject = Subject(
        row=row,
        session=session,
        state=before,
        actor=actor,
        reason=reason,
        at=as_utc(at) if at else utcnow(),
        extra=extra,
        changes=dict(values or {}),
    )
    event = machine.events.get(trigger)
    try:
        if event is None:
            raise MachineError(f"no trigger '{trigger}'")
        moved = event.trigger(subject)
    except MachineError:  # the machine has no such move from this state
        allowed = ", ".join(TRIGGER_VI.get(t, t) for t in allowed_triggers(entity, before))
        raise IllegalTransition(
            f"{describe(row)} hiện {STATE_VI.get(before, before)}: không thể "
            f"{TRIGGER_VI.get(trigger, trigger)} (được phép: {allowed or 'không thao tác nào'})"
        ) from None
    if not moved:
        raise GuardFailed(
            subject.refusal or f"{describe(row)}: không thể {TRIGGER_VI.get(trigger, trigger)}"
        )
    after = State(subject.state)
    _write(session, row, entity, before, after, subject, trigger)
    return after


# Core statements, built once: the row's attributes are set by ``_write`` itself, and neither
# an UPDATE by id nor an append-only audit row needs the ORM's bookkeeping (which cost a portal
# submission a quarter of its CPU)
_AUDIT = insert(table_of(TransitionLog))


@cache
def _versioned_update(model: type[SQLModel]) -> Any:
    """UPDATE of one row by id, version and state; the SET clause is the parameters' columns."""
    table = table_of(model)
    return update(table).where(
        table.c.id == bindparam("_id"),
        table.c.version == bindparam("_version"),
        table.c.status == bindparam("_status"),
    )


def _write(
    session: Session,
    row: Plan | ReportRequest,
    entity: str,
    before: State,
    after: State,
    subject: Subject,
    trigger: str,
) -> None:
    if row.id is None:
        session.flush()
    values = {"status": after, "version": row.version + 1, **subject.changes}
    result = session.execute(
        _versioned_update(type(row)),
        {**values, "_id": row.id, "_version": row.version, "_status": before},
    )
    if rows_affected(result) != 1:
        raise ConcurrentTransition(
            f"{describe(row)} vừa được người khác thay đổi; hãy tải lại rồi thử lại"
        )
    for key, value in values.items():
        attributes.set_committed_value(row, key, value)
    session.execute(
        _AUDIT,
        {
            "entity": entity,
            "entity_id": pk(row),
            "trigger": trigger,
            "from_state": before,
            "to_state": after,
            "actor": subject.actor,
            "reason": subject.reason,
            "approver": subject.extra.get("approver"),
            "comment": subject.extra.get("comment"),
            "at": subject.at,
            "link_id": _via_link.get(),
        },
    )


AUDIT = table_of(TransitionLog)


BULK_SAFE_GUARDS = {"deadline_set"}  # enforced by the schema (deadline is NOT NULL)


def fire_many(
    session: Session,
    model: type[Plan | ReportRequest],
    ids: list[int] | Select[Any],
    trigger: str,
    *,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
    reasons: Mapping[int, str] | None = None,
) -> list[int]:
    """Move many rows by one guard-free trigger with set-based SQL; returns the ids moved.

    ``ids``: a list, or a query selecting them (the rows are then never read into Python:
    one INSERT … SELECT of the audit rows and one UPDATE, whatever their number).
    Rows whose state does not allow the trigger are left alone (not an error: a re-run finds
    them already moved). Each moved row gets its audit row, in the caller's transaction.
    A trigger that needs a reason (cancel) is allowed in bulk when ``reason`` or, per row,
    ``reasons`` gives one for every row.
    """
    if isinstance(ids, list) and not ids:
        return []
    entity = ENTITY_OF[model]
    move = next((m for m in MOVES[entity] if m.trigger == trigger), None)
    if move is None or set(move.guards) - BULK_SAFE_GUARDS - {"reason_given"}:
        raise ValueError(f"'{trigger}' cannot be fired in bulk on {entity}")
    if reasons and not isinstance(ids, list):
        raise ValueError("a reason per row needs the rows' ids")
    per_row = (
        bool(reasons)
        and isinstance(ids, list)
        and all((reasons or {}).get(i, "").strip() for i in ids)
    )
    if "reason_given" in move.guards and not (reason or "").strip() and not per_row:
        raise GuardFailed(
            f"{ENTITY_VI[entity]}: cần nêu lý do để {TRIGGER_VI.get(trigger, trigger)}"
        )
    when = as_utc(at) if at else utcnow()
    table = table_of(model)
    audit = {
        "entity": entity,
        "trigger": trigger,
        "to_state": move.dest,
        "actor": actor,
        "reason": reason,
        "at": when,
        "link_id": _via_link.get(),
    }
    if not isinstance(ids, list):
        selected = _fire_selected(session, table, move, ids.correlate(None), audit)
        _expire(session, model, selected)
        return selected
    moved: list[int] = []
    for chunk in batched(ids):
        # one UPDATE … RETURNING: the WHERE on the source states is the check, and what it
        # returns is exactly what moved (a row another session moved first is simply not there)
        if len(move.sources) == 1:
            found = [
                (row_id, move.sources[0])
                for row_id in session.execute(
                    update(table)
                    .where(table.c.id.in_(chunk), table.c.status == move.sources[0])
                    .values(status=move.dest, version=table.c.version + 1)
                    .returning(table.c.id)
                ).scalars()
            ]
        else:  # several source states: read them first, for the audit rows
            found = [
                (row_id, State(status))
                for row_id, status in session.execute(
                    select(table.c.id, table.c.status)
                    .where(table.c.id.in_(chunk), table.c.status.in_(list(move.sources)))
                    .with_for_update()
                ).all()
            ]
            result = session.execute(
                update(table)
                .where(
                    table.c.id.in_([r[0] for r in found]),
                    table.c.status.in_(list(move.sources)),
                )
                .values(status=move.dest, version=table.c.version + 1)
            )
            if rows_affected(result) != len(found):
                raise ConcurrentTransition(
                    f"{ENTITY_VI[entity]}: người khác vừa thay đổi một số trong "
                    f"{len(found)} bản ghi khi {TRIGGER_VI.get(trigger, trigger)}; hãy thử lại"
                )
        if not found:
            continue
        if reasons:  # a reason per row: the audit rows as parameters
            session.execute(
                insert(AUDIT),
                [
                    {
                        "entity": entity,
                        "entity_id": row_id,
                        "trigger": trigger,
                        "from_state": before,
                        "to_state": move.dest,
                        "actor": actor,
                        "reason": reasons.get(row_id, reason),
                        "at": when,
                        "link_id": _via_link.get(),
                    }
                    for row_id, before in found
                ],
            )
        else:  # the same audit row for every moved row: one INSERT … SELECT per source state
            for before in dict.fromkeys(b for _, b in found):
                same = {**audit, "from_state": before}
                session.execute(
                    insert(AUDIT).from_select(
                        ["entity_id", *same],
                        select(
                            table.c.id,
                            *(constant(AUDIT.c[name], value) for name, value in same.items()),
                        )
                        .where(table.c.id.in_([i for i, b in found if b == before]))
                        .order_by(table.c.id),
                    )
                )
        moved.extend(row_id for row_id, _ in found)
    _expire(session, model, moved)
    return moved


def _fire_selected(
    session: Session, table: Any, move: Move, chosen: Select[Any], audit: dict[str, Any]
) -> list[int]:
    """``fire_many`` over the rows a query selects: the audit rows first (their from-state
    read from the rows), then the UPDATE; a row another session moved in between (no row
    lock held) loses its audit row, as if it had not been selected."""
    movable = (table.c.id.in_(chosen), table.c.status.in_(list(move.sources)))
    audited = session.execute(
        insert(AUDIT)
        .from_select(
            ["entity_id", "from_state", *audit],
            select(
                table.c.id,
                table.c.status,
                *(constant(AUDIT.c[name], value) for name, value in audit.items()),
            )
            .where(*movable)
            .order_by(table.c.id),
        )
        .returning(AUDIT.c.id, AUDIT.c.entity_id)
    ).all()
    moved = list(
        session.execute(
            update(table)
            .where(*movable)
            .values(status=move.dest, version=table.c.version + 1)
            .returning(table.c.id)
        ).scalars()
    )
    done = set(moved)
    stray = [audit_id for audit_id, row_id in audited if row_id not in done]
    for chunk in batched(stray):
        session.execute(delete(AUDIT).where(AUDIT.c.id.in_(chunk)))
    if done - {row_id for _, row_id in audited}:  # moved into a source state meanwhile
        raise ConcurrentTransition(
            f"{ENTITY_VI[audit['entity']]}: người khác vừa thay đổi một số bản ghi khi "
            f"{TRIGGER_VI.get(move.trigger, move.trigger)}; hãy thử lại"
        )
    return sorted(moved)


def _expire(session: Session, model: type[Plan | ReportRequest], moved: list[int]) -> None:
    """Refresh, on next access, the loaded rows this call moved (and only those)."""
    moved_set = set(moved)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, model) and obj.id in moved_set:
            session.expire(obj)
