"""The daily sweep: mark overdue requests, queue reminders and escalations, send the outbox."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from pydantic import BaseModel
from sqlmodel import col, select

from planflow.flows.runtime import (
    artifact_key,
    db_slot,
    db_task,
    run_parameter,
    unit_of_work,
)
from planflow.models import OrgUnit, ReportRequest
from planflow.models.time import as_utc, utcnow
from planflow.services.deadlines import today_local
from planflow.services.sweep import OPEN, mark_overdue
from planflow.states.machine import STATE_VI
from planflow.vntext import kind_vi, vn_date, vn_int


class SweepSummary(BaseModel):
    newly_overdue: int
    overdue_total: int
    messages_queued: int
    sent: int
    retried: int
    dead: int
    quiet_hours: bool
    recompiled: int = 0


@db_task
def mark_and_queue(now: datetime) -> dict:
    """One transaction: overdue flags and the reminder rows they cause, or neither."""
    from planflow.notifications.reminders import plan_reminders

    with db_slot(), unit_of_work() as session:
        overdue = mark_overdue(session=session, today=today_local(now))
        reminders = plan_reminders(session=session, now=now)
        return {
            "newly_overdue": overdue.newly_overdue,
            "overdue_total": overdue.overdue_total,
            "queued": reminders.messages,
        }


@db_task
def recompile_stale() -> int:
    """Compile again the compiled reports a later return made stale (one transaction)."""
    from planflow.services.aggregation import reaggregate_stale

    with db_slot(), unit_of_work() as session:
        return len(reaggregate_stale(session, actor="rà soát hằng ngày"))


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


@db_task
def operator_view(limit: int = 200) -> tuple[list[dict], list[dict]]:
    """Overdue requests by unit, and messages that died, for the sweep's artifacts."""
    from planflow.notifications.outbox import dead_messages

    with unit_of_work() as session:
        overdue = session.exec(
            select(ReportRequest, OrgUnit)
            .join(OrgUnit, col(OrgUnit.id) == col(ReportRequest.unit_id))
            .where(col(ReportRequest.overdue), col(ReportRequest.status).in_(list(OPEN)))
            .order_by(col(ReportRequest.deadline), col(OrgUnit.code))
            .limit(limit)
        ).all()
        dead = dead_messages(session, limit=limit)
        return (
            [
                {"Đơn vị": u.label, "Yêu cầu": r.id, "Loại báo cáo": kind_vi(r.kind),
                 "Kỳ": r.period, "Hạn": vn_date(r.deadline),
                 "Trạng thái": STATE_VI.get(r.status, r.status)}
                for r, u in overdue
            ],
            [
                {"Thông báo": m.id, "Loại": m.kind, "Kênh": m.channel, "Mã đơn vị": m.unit_id,
                 "Số lần gửi": m.attempts, "Lỗi gần nhất": m.last_error}
                for m in dead
            ],
        )


def sweep_run_name() -> str:
    now = run_parameter("now")
    moment = as_utc(now if isinstance(now, datetime) else (
        datetime.fromisoformat(now) if isinstance(now, str) else utcnow()))
    return f"rà soát ngày {vn_date(today_local(moment))}"


@flow(name="dispatch-outbox", flow_run_name="gửi thông báo")
def dispatch_outbox_flow(now: datetime | None = None) -> dict:
    """Gửi mọi thông báo đến hạn (trong khung giờ gửi).

    Args:
        now: Thời điểm coi là "bây giờ" (để trống: hiện tại)
    """
    return send_outbox(now)


@db_task
def requeue_dead() -> int:
    from planflow.notifications.outbox import retry_dead

    with unit_of_work() as session:
        return retry_dead(session)


@flow(name="retry-dead-messages", flow_run_name="gửi lại thông báo lỗi")
def retry_dead_flow(now: datetime | None = None, send: bool = True) -> dict:
    """Đưa các thông báo đã gửi lỗi quá số lần (sau khi sửa địa chỉ, kênh) trở lại hàng đợi.

    Args:
        now: Thời điểm coi là "bây giờ" (để trống: hiện tại)
        send: Gửi ngay sau khi đưa lại hàng đợi
    """
    requeued = requeue_dead()
    sent = send_outbox(now) if send else {"sent": 0, "retried": 0, "dead": 0, "quiet": False}
    return {"requeued": requeued, **sent}


@flow(name="daily-sweep", flow_run_name=sweep_run_name, log_prints=True)
def daily_sweep_flow(now: datetime | None = None, send: bool = True) -> SweepSummary:
    """Rà soát hằng ngày: đánh dấu quá hạn, xếp lịch nhắc và báo cáo cấp trên, gửi thông báo.

    Args:
        now: Thời điểm coi là "bây giờ" (để trống: hiện tại), ví dụ 2025-05-31T08:00+07:00
        send: Gửi các thông báo đến hạn ngay trong lượt này
    """
    moment = as_utc(now) if now else utcnow()
    queued = mark_and_queue(moment)
    recompiled = recompile_stale()
    sent = send_outbox(now) if send else {"sent": 0, "retried": 0, "dead": 0, "quiet": False}
    overdue, dead = operator_view()
    create_table_artifact(
        key=artifact_key("qua-han"),
        table=overdue or [{"Đơn vị": "(không có yêu cầu quá hạn)"}],
        description=f"{vn_int(queued['overdue_total'])} yêu cầu báo cáo quá hạn "
        f"({vn_int(queued['newly_overdue'])} mới hôm nay); hiển thị {vn_int(len(overdue))} "
        "yêu cầu đầu tiên.",
    )
    create_table_artifact(
        key=artifact_key("thong-bao-loi"),
        table=dead or [{"Thông báo": "(không có thông báo lỗi)"}],
        description="Thông báo đã gửi lỗi mọi lần: sửa địa chỉ hoặc kênh, rồi chạy "
        "`planflow outbox retry-dead`.",
    )
    return SweepSummary(
        newly_overdue=queued["newly_overdue"], overdue_total=queued["overdue_total"],
        messages_queued=queued["queued"], sent=sent["sent"], retried=sent["retried"],
        dead=sent["dead"], quiet_hours=sent["quiet"], recompiled=recompiled,
    )
