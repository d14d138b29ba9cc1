"""The plan and report machines against the lifecycles written out literally (GOLDEN)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from planflow.models import Plan, ReportRequest, State, TransitionLog
from planflow.services.reporting import submit_report
from planflow.states import (
    MOVES,
    ConcurrentTransition,
    GuardFailed,
    IllegalTransition,
    allowed_triggers,
    fire,
)
from planflow.states.machine import STATE_VI, TRIGGER_VI
from tests import factories as f

CONTEXT = {"reason": "đơn vị sáp nhập", "content_checked": True}
D, I, A, S, G, C = "drafted", "issued", "acknowledged", "submitted", "aggregated", "cancelled"
REFUSED = None

# The two lifecycles written out by hand (DESIGN.md §4), NOT read from planflow.states.MOVES:
# for every state and every trigger, the state it must reach, or REFUSED.
GOLDEN: dict[str, dict[tuple[str, str], str | None]] = {
    "plan": {
        (D, "issue"): I, (D, "acknowledge"): REFUSED, (D, "submit"): REFUSED,
        (D, "return"): REFUSED, (D, "aggregate"): REFUSED, (D, "cancel"): C,
        (I, "issue"): REFUSED, (I, "acknowledge"): A, (I, "submit"): S,
        (I, "return"): REFUSED, (I, "aggregate"): REFUSED, (I, "cancel"): C,
        (A, "issue"): REFUSED, (A, "acknowledge"): REFUSED, (A, "submit"): S,
        (A, "return"): REFUSED, (A, "aggregate"): REFUSED, (A, "cancel"): C,
        (S, "issue"): REFUSED, (S, "acknowledge"): REFUSED, (S, "submit"): REFUSED,
        (S, "return"): A, (S, "aggregate"): G, (S, "cancel"): REFUSED,
        (G, "issue"): REFUSED, (G, "acknowledge"): REFUSED, (G, "submit"): REFUSED,
        (G, "return"): REFUSED, (G, "aggregate"): REFUSED, (G, "cancel"): REFUSED,
        (C, "issue"): REFUSED, (C, "acknowledge"): REFUSED, (C, "submit"): REFUSED,
        (C, "return"): REFUSED, (C, "aggregate"): REFUSED, (C, "cancel"): REFUSED,
    },
    "report_request": {
        (D, "issue"): I, (D, "acknowledge"): REFUSED, (D, "submit"): REFUSED,
        (D, "return"): REFUSED, (D, "aggregate"): REFUSED, (D, "cancel"): C,
        (I, "issue"): REFUSED, (I, "acknowledge"): A, (I, "submit"): S,
        (I, "return"): REFUSED, (I, "aggregate"): REFUSED, (I, "cancel"): C,
        (A, "issue"): REFUSED, (A, "acknowledge"): REFUSED, (A, "submit"): S,
        (A, "return"): REFUSED, (A, "aggregate"): REFUSED, (A, "cancel"): C,
        (S, "issue"): REFUSED, (S, "acknowledge"): REFUSED, (S, "submit"): REFUSED,
        (S, "return"): A, (S, "aggregate"): G, (S, "cancel"): REFUSED,
        (G, "issue"): REFUSED, (G, "acknowledge"): REFUSED, (G, "submit"): REFUSED,
        (G, "return"): REFUSED, (G, "aggregate"): REFUSED, (G, "cancel"): REFUSED,
        (C, "issue"): REFUSED, (C, "acknowledge"): REFUSED, (C, "submit"): REFUSED,
        (C, "return"): REFUSED, (C, "aggregate"): REFUSED, (C, "cancel"): REFUSED,
    },
}


def _allowed(entity: str) -> list[tuple[State, str, State]]:
    return [
        (State(s), t, State(dest)) for (s, t), dest in GOLDEN[entity].items() if dest is not None
    ]


def _forbidden(entity: str) -> list[tuple[State, str]]:
    return [(State(s), t) for (s, t), dest in GOLDEN[entity].items() if dest is None]


@pytest.mark.parametrize("entity", ["plan", "report_request"])
def test_the_golden_table_covers_every_state_and_trigger(entity: str) -> None:
    triggers = {m.trigger for m in MOVES[entity]}
    assert set(GOLDEN[entity]) == {(s.value, t) for s in State for t in triggers}


def test_the_sets_of_states_the_services_ask_about_written_out() -> None:
    """The named sets every service and the portal use (their one home, read off the table),
    against the lifecycle as DESIGN.md §4 states it."""
    from planflow.states import CANCELLABLE, LIVE, OPEN, SENT, VISIBLE

    named = {"OPEN": OPEN, "CANCELLABLE": CANCELLABLE, "SENT": SENT, "VISIBLE": VISIBLE,
             "LIVE": LIVE}
    assert {name: {s.value for s in states} for name, states in named.items()} == {
        "OPEN": {"issued", "acknowledged"},
        "CANCELLABLE": {"drafted", "issued", "acknowledged"},
        "SENT": {"submitted", "aggregated"},
        "VISIBLE": {"issued", "acknowledged", "submitted", "aggregated"},
        "LIVE": {"issued", "acknowledged", "submitted"},
    }


@pytest.mark.parametrize("entity", ["plan", "report_request"])
def test_the_machine_allows_exactly_the_golden_moves(entity: str) -> None:
    for (state, trigger), dest in GOLDEN[entity].items():
        allowed = trigger in allowed_triggers(entity, state)
        assert allowed == (dest is not None), (entity, state, trigger)


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
        assert STATE_VI[State(source)] in message and TRIGGER_VI[trigger] in message
        assert str(row.id) in message
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
    with pytest.raises(GuardFailed, match="cần nêu lý do"):
        fire(session, row, trigger, actor="Sở LĐTBXH", reason=reason)
    assert row.status == source and _audit_count(session) == 0


def test_submit_refuses_invalid_content(session: Session) -> None:
    row = _request(session, State.acknowledged)
    with pytest.raises(GuardFailed, match="female"):
        fire(session, row, "submit", actor="x", problems=["GE-01.female: must be ≥ 0"])
    with pytest.raises(GuardFailed, match="chưa được kiểm tra"):
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
def test_the_service_marks_a_submission_after_the_deadline_late(
    session: Session, submitted_at: datetime, late: bool
) -> None:
    city = f.unit(session, "Thành phố Hà Nội")
    plan = f.plan(session, city)
    row = f.request(session, plan, city, status=State.issued, deadline=date(2025, 5, 30))
    submit_report(session=session, request_id=row.id, figures={}, actor="x", at=submitted_at)
    session.refresh(row)
    assert (row.status, row.late, row.submitted_at) == (State.submitted, late, submitted_at)


def test_guards_only_judge_the_move_writes_only_the_state_and_what_the_service_gives(
    session: Session,
) -> None:
    city = f.unit(session, "Thành phố Hà Nội")
    plan = f.plan(session, city)
    row = f.request(session, plan, city, status=State.issued, deadline=date(2025, 5, 30))
    fire(session, row, "submit", actor="x", at=datetime(2025, 6, 2, tzinfo=UTC),
         content_checked=True)
    session.refresh(row)
    assert (row.status, row.late, row.submitted_at) == (State.submitted, False, None)


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
    with pytest.raises(GuardFailed, match=r"kế hoạch cấp trên .* ban hành trước \(hiện dự thảo\)"):
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


def _requests_in_every_state(session: Session, name: str) -> tuple[Plan, dict[State, int]]:
    city = f.unit(session, name)
    plan = f.plan(session, city)
    ids = {}
    for n, status in enumerate(State):
        unit = f.unit(session, f"{name} {n}", parent=city)
        ids[status] = f.request(session, plan, unit, status=status).id
    return plan, ids


@pytest.mark.parametrize("by", ["ids", "query"])
@pytest.mark.parametrize(
    ("trigger", "reason", "moved"),
    [("aggregate", None, [S]), ("cancel", "đơn vị sáp nhập", [D, I, A])],
)
def test_fire_many_moves_exactly_the_allowed_rows_with_an_audit_row_each(
    session: Session, by: str, trigger: str, reason: str | None, moved: list[str]
) -> None:
    """By a list of ids or by a query selecting them: the rows whose state allows the trigger
    move (version + 1), the others are left alone, and each moved row gets one audit row
    with its own from-state, the actor, the reason, the time and the portal link."""
    from planflow.states import fire_many
    from planflow.states.machine import via_link

    plan, ids = _requests_in_every_state(session, "Thành phố Hà Nội")
    _, untouched = _requests_in_every_state(session, "Tỉnh Bắc Ninh")  # not selected
    at = datetime(2025, 6, 1, 2, 30, tzinfo=UTC)
    chosen = (
        list(ids.values())
        if by == "ids"
        else select(ReportRequest.id).where(ReportRequest.plan_id == plan.id)
    )
    with via_link(7):
        got = fire_many(session, ReportRequest, chosen, trigger, actor="tester", reason=reason,
                        at=at)
    assert sorted(got) == sorted(ids[State(s)] for s in moved)
    rows = {r.id: r for r in session.exec(select(ReportRequest)).scalars()}
    dest = GOLDEN["report_request"][(moved[0], trigger)]
    for status, row_id in ids.items():
        expected = (dest, 2) if status in moved else (status, 1)
        assert (rows[row_id].status, rows[row_id].version) == expected, status
    assert all(rows[i].status == s for s, i in untouched.items())
    logs = session.exec(select(TransitionLog).order_by(TransitionLog.entity_id)).scalars().all()
    assert [(log.entity_id, log.from_state, log.to_state) for log in logs] == sorted(
        (ids[State(s)], s, dest) for s in moved
    )
    assert {(log.entity, log.trigger, log.actor, log.reason, log.link_id) for log in logs} == {
        ("report_request", trigger, "tester", reason, 7)
    }
    assert {log.at.replace(tzinfo=UTC) for log in logs} == {at}
    assert fire_many(session, ReportRequest, chosen, trigger, actor="again", reason=reason) == []
    assert _audit_count(session) == len(moved)
