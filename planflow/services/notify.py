"""The one place domain services hand events to notifications, inside their own transaction."""

from __future__ import annotations

from sqlmodel import Session


def plan_issued(session: Session, *, plan_id: int) -> int:
    """Queue the 'plan issued' message for every unit the plan assigns; returns rows queued."""
    from planflow.notifications import hooks as events

    return events.notify_plan_issued(session, plan_id=plan_id)


def returned(session: Session, *, request_id: int, reason: str) -> int:
    """Queue the 'returned for revision' message to the unit; returns rows queued."""
    from planflow.notifications import hooks as events

    return events.notify_returned(session, request_id=request_id, reason=reason)


def plan_cancelled(
    session: Session, *, plan_id: int, request_ids: list[int], reason: str
) -> int:
    """Queue one 'plan cancelled' message per unit whose request was cancelled; returns units."""
    from planflow.notifications import hooks as events

    return events.notify_plan_cancelled(
        session, plan_id=plan_id, request_ids=request_ids, reason=reason
    )
