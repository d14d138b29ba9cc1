"""Cancelling a plan: the plan, its sub-plans (recursively) and their open report requests, in
the caller's one transaction, each with its audit row; every unit concerned is told once.

What was already submitted or aggregated stays as it was (accepted figures are never thrown
away), but a cancelled request refuses submissions, is never flagged overdue, and the messages
still waiting in the outbox about the withdrawn plan are not sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from planflow.config.db import batched
from planflow.models import Plan, ReportRequest, State
from planflow.models.base import stored_ids
from planflow.models.outbox import OutboxMessage, OutboxStatus
from planflow.services import notify
from planflow.services.plans import get_plan
from planflow.states import CANCELLABLE, OPEN, SENT, GuardFailed, fire, fire_many

_ABOUT_REQUEST = re.compile(r"^[a-z_]+:r(\d+)[:v]")
_ABOUT_PLAN = re.compile(r"^plan_issued:p(\d+)v")
WITHDRAWN = "không gửi: kế hoạch đã bị hủy"


@dataclass
class CancelResult:
    plan_id: int
    already_cancelled: bool = False
    plans_cancelled: list[int] = field(default_factory=list)
    requests_cancelled: list[int] = field(default_factory=list)
    requests_kept: int = 0  # submitted or aggregated: accepted figures stay
    units_notified: int = 0
    messages_withdrawn: int = 0

    def line(self) -> str:
        """One Vietnamese line for an officer: what the cancellation did."""
        if self.already_cancelled:
            return f"kế hoạch {self.plan_id} đã bị hủy trước đó; không thay đổi gì"
        return (
            f"đã hủy kế hoạch {self.plan_id}: {len(self.plans_cancelled)} kế hoạch (kể cả kế "
            f"hoạch cấp dưới), {len(self.requests_cancelled)} yêu cầu báo cáo chưa nộp; giữ "
            f"nguyên {self.requests_kept} báo cáo đã nộp; đã báo cho {self.units_notified} đơn vị"
        )


def plan_tree(session: Session, plan_id: int) -> list[int]:
    """``plan_id`` and every plan cascaded from it, level by level."""
    found, frontier = [plan_id], [plan_id]
    while frontier:
        frontier = [
            pid
            for chunk in batched(frontier)
            for pid in stored_ids(
                session.exec(
                    select(col(Plan.id)).where(
                        col(Plan.parent_id).in_(chunk)
                    )
                ).all()
            )
        ]
        found.extend(frontier)
    return found


def cancel_plan(
    *, session: Session, plan_id: int, reason: str, actor: str, at: datetime | None = None
) -> CancelResult:
    """Cancel a plan and everything below it in the caller's transaction; a re-run is a no-op."""
    if not (reason or "").strip():
        raise GuardFailed(f"kế hoạch {plan_id}: cần nêu lý do hủy (--reason)")
    plan = get_plan(session, plan_id, lock=True)
    result = CancelResult(plan_id=plan_id)
    if plan.status == State.cancelled:
        result.already_cancelled = True
        return result
    fire(session, plan, "cancel", actor=actor, reason=reason, at=at)
    tree = plan_tree(session, plan_id)
    below = tree[1:]
    cancelled_below = fire_many(
        session, Plan, _in_states(session, Plan, below, CANCELLABLE), "cancel",
        actor=actor, reason=reason, at=at,
    )
    result.plans_cancelled = [plan_id, *cancelled_below]
    open_ids = _requests(session, tree, CANCELLABLE)
    told = set(_requests(session, tree, OPEN))  # drafted: unknown to the unit
    result.requests_cancelled = fire_many(
        session, ReportRequest, open_ids, "cancel", actor=actor, reason=reason, at=at
    )
    result.requests_kept = len(_requests(session, tree, SENT))
    result.messages_withdrawn = _withdraw_pending(
        session, set(result.plans_cancelled), set(result.requests_cancelled)
    )
    result.units_notified = notify.plan_cancelled(
        session,
        plan_id=plan_id,
        request_ids=[r for r in result.requests_cancelled if r in told],
        reason=reason.strip(),
    )
    session.flush()
    return result


def _in_states(session: Session, model, ids: list[int], states) -> list[int]:
    return [
        rid
        for chunk in batched(ids)
        for rid in session.exec(
            select(model.id).where(model.id.in_(chunk), model.status.in_(states))
        ).all()
    ]


def _requests(session: Session, plan_ids: list[int], states: Iterable[State]) -> list[int]:
    return [
        rid
        for chunk in batched(plan_ids)
        for rid in stored_ids(
            session.exec(
                select(ReportRequest.id).where(
                    col(ReportRequest.plan_id).in_(chunk),
                    col(ReportRequest.status).in_(states),
                )
            ).all()
        )
    ]


def _withdraw_pending(session: Session, plans: set[int], requests: set[int]) -> int:
    """Pending messages about a cancelled plan or request become dead, so none is sent."""
    pending = session.exec(
        select(OutboxMessage.id, OutboxMessage.key).where(
            OutboxMessage.status == OutboxStatus.pending
        )
    ).all()
    doomed = []
    for message_id, key in pending:
        by_request, by_plan = _ABOUT_REQUEST.match(key), _ABOUT_PLAN.match(key)
        if (by_request and int(by_request[1]) in requests) or (
            by_plan and int(by_plan[1]) in plans
        ):
            doomed.append(message_id)
    for chunk in batched(doomed):
        session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id).in_(chunk),
                col(OutboxMessage.status) == OutboxStatus.pending,
            )
            .values(status=OutboxStatus.dead, last_error=WITHDRAWN, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
    return len(doomed)
