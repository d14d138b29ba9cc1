"""Cancelling a plan: everything below it in one transaction, units told once, nothing later."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from planflow.models import Plan, ReportRequest, State, TransitionLog
from planflow.models.outbox import MessageKind, OutboxMessage, OutboxStatus
from planflow.notifications.hooks import notify_report_requested
from planflow.notifications.reminders import plan_reminders
from planflow.services.cancel import cancel_plan
from planflow.services.reporting import submit_report
from planflow.services.sweep import mark_overdue
from planflow.states import GuardFailed, IllegalTransition

pytestmark = pytest.mark.faults

FIGURES = {"HD-TT-SK": {"total": 3}}


def _count(session: Session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_cancel_reaches_sub_plans_and_open_requests_in_one_go(session, tree):
    ward = tree.requests["Phường Phúc Xá"].id
    submit_report(session=session, request_id=ward, figures=FIGURES, actor="ward",
                  at=datetime(2025, 5, 1, tzinfo=UTC))
    pending_before = session.exec(select(OutboxMessage)).all()
    session.commit()

    result = cancel_plan(session=session, plan_id=tree.top.id, reason="Sáp nhập đơn vị",
                         actor="UBND")
    session.commit()

    assert sorted(result.plans_cancelled) == sorted([tree.top.id] + [p.id for p in tree.subs])
    statuses = {name: session.get(ReportRequest, r.id).status for name, r in tree.requests.items()}
    assert statuses.pop("Phường Phúc Xá") == State.submitted  # accepted figures are kept
    assert set(statuses.values()) == {State.cancelled}
    assert result.requests_kept == 1 and len(result.requests_cancelled) == 4
    # an audit row for every plan and request that moved, with the reason
    audits = session.exec(select(TransitionLog).where(TransitionLog.trigger == "cancel")).all()
    assert len(audits) == 3 + 4 and {a.reason for a in audits} == {"Sáp nhập đơn vị"}
    # told once per unit (4 units had an open, issued request)
    told = session.exec(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.plan_cancelled)
    ).all()
    assert len(told) == result.units_notified == 4
    assert len({m.unit_id for m in told}) == 4
    assert all("Sáp nhập đơn vị" in m.body_text for m in told)
    assert len(pending_before) == 0


def test_cancel_twice_changes_nothing_and_tells_nobody_again(session, tree):
    cancel_plan(session=session, plan_id=tree.top.id, reason="Thay thế", actor="UBND")
    session.commit()
    messages = _count(session, OutboxMessage)
    audits = _count(session, TransitionLog)
    again = cancel_plan(session=session, plan_id=tree.top.id, reason="Thay thế", actor="UBND")
    session.commit()
    assert again.already_cancelled and "đã bị hủy" in again.line()
    assert _count(session, OutboxMessage) == messages
    assert _count(session, TransitionLog) == audits


def test_cancelled_request_refuses_a_submission(session, tree):
    cancel_plan(session=session, plan_id=tree.top.id, reason="Thay thế", actor="UBND")
    session.commit()
    ward = tree.requests["Phường Hàng Bạc"].id
    with pytest.raises(IllegalTransition, match="đã bị hủy"):
        submit_report(session=session, request_id=ward, figures=FIGURES, actor="ward")
    session.rollback()
    assert session.get(ReportRequest, ward).status == State.cancelled


def test_cancelled_requests_are_never_overdue_nor_reminded(session, tree):
    cancel_plan(session=session, plan_id=tree.top.id, reason="Thay thế", actor="UBND")
    session.commit()
    late_day = date(2025, 6, 30)
    swept = mark_overdue(session=session, today=late_day)
    plan_reminders(session=session, now=datetime(2025, 6, 30, 2, tzinfo=UTC))
    session.commit()
    assert swept.overdue_total == 0
    assert _count(session, ReportRequest, ReportRequest.overdue) == 0
    kinds = set(session.exec(select(OutboxMessage.kind)).all())
    assert kinds == {MessageKind.plan_cancelled}


def test_pending_messages_about_the_plan_are_withdrawn(session, tree):
    ward = tree.requests["Phường Trúc Bạch"]
    notify_report_requested(session, request_id=ward.id)
    session.commit()
    pending = _count(session, OutboxMessage, OutboxMessage.status == OutboxStatus.pending)
    result = cancel_plan(session=session, plan_id=tree.top.id, reason="Thay thế", actor="UBND")
    session.commit()
    assert result.messages_withdrawn == pending > 0
    assert ward.id in result.requests_cancelled
    left = session.exec(
        select(OutboxMessage.kind).where(OutboxMessage.status == OutboxStatus.pending)
    ).all()
    assert set(left) == {MessageKind.plan_cancelled}


def test_cancel_needs_a_reason_and_changes_nothing_without_one(session, tree):
    with pytest.raises(GuardFailed, match="lý do"):
        cancel_plan(session=session, plan_id=tree.top.id, reason="  ", actor="UBND")
    session.rollback()
    assert session.get(Plan, tree.top.id).status == State.issued
    assert _count(session, TransitionLog, TransitionLog.trigger == "cancel") == 0


def test_a_cancelled_plan_is_not_aggregated(session, tree):
    from planflow.models import ReportKind
    from planflow.services.aggregation import aggregate_period

    cancel_plan(session=session, plan_id=tree.top.id, reason="Thay thế", actor="UBND")
    session.commit()
    with pytest.raises(IllegalTransition, match="đã bị hủy"):
        aggregate_period(session=session, plan_id=tree.top.id, kind=ReportKind.six_month,
                         period="2025-H1", actor="agency")


def test_plan_cancel_command_prints_one_line(engine, tree):
    out = subprocess.run(
        [sys.executable, "-m", "planflow", "plan", "cancel", str(tree.top.id),
         "--reason", "Sáp nhập đơn vị"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().count("\n") == 0 and "đã hủy kế hoạch" in out.stdout
    again = subprocess.run(
        [sys.executable, "-m", "planflow", "plan", "cancel", "999999", "--reason", "x"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    with Session(engine) as s:
        assert s.get(Plan, tree.top.id).status == State.cancelled
