"""The daily sweep: mark overdue requests, queue reminders and escalations, send the outbox."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from pydantic import BaseModel
from sqlmodel import select

from planflow.flows.runtime import retry_on_database_busy, unit_of_work
from planflow.models import OrgUnit, ReportRequest
from planflow.models.time import as_utc, utcnow
from planflow.services.deadlines import today_local
from planflow.services.sweep import OPEN, mark_overdue

DB_TASK = {"cache_policy": NONE, "retries": 2, "retry_delay_seconds": 2,
           "retry_condition_fn": retry_on_database_busy}


class SweepSummary(BaseModel):
    newly_overdue: int
    overdue_total: int
    messages_queued: int
    sent: int
    retried: int
    dead: int
    quiet_hours: bool


@task(**DB_TASK)
def mark_and_queue(now: datetime) -> dict:
    """One transaction: overdue flags and the reminder rows they cause, or neither."""
    from planflow.notifications.reminders import plan_reminders

    with unit_of_work() as session:
        overdue = mark_overdue(session=session, today=today_local(now))
        reminders = plan_reminders(session=session, now=now)
        return {
            "newly_overdue": overdue.newly_overdue,
            "overdue_total": overdue.overdue_total,
            "queued": reminders.messages,
        }


@task(cache_policy=NONE, retries=3, retry_delay_seconds=[10, 60, 300])
def send_outbox(now: datetime | None) -> dict:
    """Send what is due; transport I/O, so this is the task that retries."""
    from planflow.config.db import get_engine
    from planflow.config.settings import get_settings
    from planflow.notifications.channels import build_channels
    from planflow.notifications.dispatcher import dispatch_due

    engine = get_engine()
    result = dispatch_due(engine=engine, channels=build_channels(get_settings(), engine=engine),
                          now=now)
    return {"sent": result.sent, "retried": result.retried, "dead": result.dead,
            "quiet": result.quiet}


@task(cache_policy=NONE)
def operator_view(limit: int = 200) -> tuple[list[dict], list[dict]]:
    """Overdue requests by unit, and messages that died, for the sweep's artifacts."""
    from planflow.notifications.outbox import dead_messages

    with unit_of_work() as session:
        overdue = session.exec(
            select(ReportRequest, OrgUnit)
            .join(OrgUnit, OrgUnit.id == ReportRequest.unit_id)
            .where(ReportRequest.overdue, ReportRequest.status.in_(list(OPEN)))
            .order_by(ReportRequest.deadline, OrgUnit.code)
            .limit(limit)
        ).all()
        dead = dead_messages(session, limit=limit)
        return (
            [
                {"unit": u.label, "request": r.id, "kind": r.kind, "period": r.period,
                 "deadline": r.deadline.isoformat(), "status": r.status}
                for r, u in overdue
            ],
            [
                {"message": m.id, "kind": m.kind, "channel": m.channel, "unit_id": m.unit_id,
                 "attempts": m.attempts, "last_error": m.last_error}
                for m in dead
            ],
        )


@flow(name="dispatch-outbox")
def dispatch_outbox_flow(now: datetime | None = None) -> dict:
    """Send every due outbox message now (or at the given clock), within the send window."""
    return send_outbox(now)


@flow(name="daily-sweep", log_prints=True)
def daily_sweep_flow(now: datetime | None = None, send: bool = True) -> SweepSummary:
    """Run every morning: overdue flags, reminders and escalations queued, the outbox sent."""
    moment = as_utc(now) if now else utcnow()
    queued = mark_and_queue(moment)
    sent = send_outbox(now) if send else {"sent": 0, "retried": 0, "dead": 0, "quiet": False}
    overdue, dead = operator_view()
    create_table_artifact(
        key="daily-sweep-overdue",
        table=overdue or [{"unit": "(none overdue)"}],
        description=f"{queued['overdue_total']} open requests past their deadline "
        f"({queued['newly_overdue']} new today); first {len(overdue)} shown.",
    )
    create_table_artifact(
        key="daily-sweep-dead-messages",
        table=dead or [{"message": "(no dead messages)"}],
        description="Messages that failed every attempt: fix the address or channel, then retry.",
    )
    return SweepSummary(
        newly_overdue=queued["newly_overdue"], overdue_total=queued["overdue_total"],
        messages_queued=queued["queued"], sent=sent["sent"], retried=sent["retried"],
        dead=sent["dead"], quiet_hours=sent["quiet"],
    )
