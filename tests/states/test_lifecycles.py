"""The plan and report machines, table-driven from the same tables they are built from."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from planflow.models import Plan, ReportRequest, State, TransitionLog
from planflow.states import (
    MOVES,
    ConcurrentTransition,
    GuardFailed,
    IllegalTransition,
    fire,
)
from tests import factories as f

ALL_TRIGGERS = sorted({m.trigger for moves in MOVES.values() for m in moves})
CONTEXT = {"reason": "đơn vị sáp nhập", "content_checked": True}


def _allowed(entity: str) -> list[tuple[State, str, State]]:
    return [(s, m.trigger, m.dest) for m in MOVES[entity] for s in m.sources]


def _forbidden(entity: str) -> list[tuple[State, str]]:
    ok = {(s, t) for s, t, _ in _allowed(entity)}
    return [(s, t) for s in State for t in ALL_TRIGGERS if (s, t) not in ok]


def _audit_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TransitionLog))


def _issuable_plan(session: Session, status: State) -> Plan:
    city = f.unit(session, "Thành phố Hà Nội")
    dept = f.unit(session, "Sở Lao động - Thương binh và Xã hội", parent=city, kind="agency")
    plan = f.plan(
        session,
        city,
        number="37/KH-UBND",
        issued_on=date(2025, 1, 20),
        signer_name="Vũ Thu Hà",
        status=status,
    )
    f.assignment(session, plan, dept)
    return plan


def _request(session: Session, status: State) -> ReportRequest:
    city = f.unit(session, "Thành phố Hà Nội")
    plan = f.plan(session, city)
    return f.request(session, plan, city, status=status, deadline=date(2099, 5, 30))


ROW_MAKERS = {"plan": _issuable_plan, "report_request": _request}


@pytest.mark.parametrize("entity", ["plan", "report_request"])
def test_every_allowed_transition_moves_and_audits(session: Session, entity: str) -> None:
    for source, trigger, dest in _allowed(entity):
        row = ROW_MAKERS[entity](session, source)
        version = row.version
        assert fire(session, row, trigger, actor="tester", **CONTEXT) == dest
        session.flush()
        session.refresh(row)
        assert (row.status, row.version) == (dest, version + 1), (source, trigger)
        log = session.exec(
            select(TransitionLog).where(
                TransitionLog.entity == entity, TransitionLog.entity_id == row.id
            )
        ).one()[0]
        assert (log.trigger, log.from_state, log.to_state, log.actor) == (
            trigger,
            source,
            dest,
            "tester",
        )


@pytest.mark.parametrize("entity", ["plan", "report_request"])
def test_every_forbidden_transition_raises_and_changes_nothing(
    session: Session, entity: str
) -> None:
    cases = _forbidden(entity)
    assert cases, "the table must forbid something"
    for source, trigger in cases:
        row = ROW_MAKERS[entity](session, source)
        session.commit()
        audits = _audit_count(session)
        with pytest.raises(IllegalTransition) as err:
            fire(session, row, trigger, actor="tester", **CONTEXT)
        message = str(err.value)
        assert f"'{source}'" in message and f"'{trigger}'" in message and str(row.id) in message
        session.rollback()
        session.refresh(row)
        assert row.status == source
        assert _audit_count(session) == audits


def test_audit_row_rolls_back_with_the_state_change(engine) -> None:
    with Session(engine) as s:
        row = _request(s, State.issued)
        s.commit()
        row_id = row.id
        fire(s, row, "acknowledge", actor="Phòng LĐTBXH")
        assert _audit_count(s) == 1
        s.rollback()
    with Session(engine) as s:
        assert s.get(ReportRequest, row_id).status == State.issued
        assert _audit_count(s) == 0


@pytest.mark.parametrize("trigger,source", [("return", State.submitted), ("cancel", State.issued)])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_return_and_cancel_need_a_reason(
    session: Session, trigger: str, source: State, reason: str | None
) -> None:
    row = _request(session, source)
    with pytest.raises(GuardFailed, match="needs a reason"):
        fire(session, row, trigger, actor="Sở LĐTBXH", reason=reason)
    assert row.status == source and _audit_count(session) == 0


def test_submit_refuses_invalid_content(session: Session) -> None:
    row = _request(session, State.acknowledged)
    with pytest.raises(GuardFailed, match="female"):
        fire(session, row, "submit", actor="x", problems=["GE-01.female: must be ≥ 0"])
    with pytest.raises(GuardFailed, match="validated content"):
        fire(session, row, "submit", actor="x")
    assert row.status == State.acknowledged and _audit_count(session) == 0


@pytest.mark.parametrize(
    "submitted_at,late",
    [
        (datetime(2025, 5, 30, 16, 59, tzinfo=UTC), False),  # 23:59 in Hà Nội on the day
        (datetime(2025, 5, 30, 17, 1, tzinfo=UTC), True),  # 00:01 the next day in Hà Nội
        (datetime(2025, 4, 1, tzinfo=UTC), False),
    ],
)
def test_submit_after_deadline_marks_late(
    session: Session, submitted_at: datetime, late: bool
) -> None:
    city = f.unit(session, "Thành phố Hà Nội")
    plan = f.plan(session, city)
    row = f.request(session, plan, city, status=State.issued, deadline=date(2025, 5, 30))
    fire(session, row, "submit", actor="x", at=submitted_at, content_checked=True)
    assert row.late is late
    assert row.submitted_at == submitted_at


def test_plan_issue_guards_name_what_is_missing(session: Session) -> None:
    city = f.unit(session, "Thành phố Hà Nội")
    plan = f.plan(session, city)
    with pytest.raises(GuardFailed) as err:
        fire(session, plan, "issue", actor="x")
    for missing in ("số, ký hiệu", "ngày ban hành", "người ký", "ít nhất một đơn vị"):
        assert missing in str(err.value)
    assert plan.status == State.drafted


def test_sub_plan_cannot_be_issued_before_its_parent(session: Session) -> None:
    parent = _issuable_plan(session, State.drafted)
    district = f.unit(session, "Quận Hà Đông", level="district")
    child = f.plan(
        session,
        district,
        parent_id=parent.id,
        number="70/KH-UBND",
        issued_on=date(2025, 2, 1),
        signer_name="Trần Thị Lương An",
    )
    f.assignment(session, child, district)
    with pytest.raises(GuardFailed, match="kế hoạch cấp trên .* ban hành trước \\(hiện dự thảo\\)"):
        fire(session, child, "issue", actor="x")
    fire(session, parent, "issue", actor="x")
    assert fire(session, child, "issue", actor="x") == State.issued


def test_two_sessions_cannot_both_move_the_same_row(engine) -> None:
    with Session(engine) as s:
        row = _request(s, State.issued)
        s.commit()
        row_id = row.id
    with Session(engine) as first, Session(engine) as second:
        a = first.get(ReportRequest, row_id)
        b = second.get(ReportRequest, row_id)
        fire(first, a, "acknowledge", actor="first")
        first.commit()
        with pytest.raises(ConcurrentTransition):
            fire(second, b, "submit", actor="second", content_checked=True)
        second.rollback()
    with Session(engine) as s:
        assert s.get(ReportRequest, row_id).status == State.acknowledged
        assert _audit_count(s) == 1
