"""Reminder stages, escalation, digests and the event hooks, on every configured backend."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from planflow.config.settings import get_settings
from planflow.models import OutboxMessage, ReminderMark, ReportKind, ReportRequest, State
from planflow.notifications import (
    notify_plan_issued,
    notify_report_requested,
    notify_returned,
    outbox_counts,
    plan_reminders,
)
from planflow.notifications.reminders import stage_dates
from planflow.services.sweep import mark_overdue
from planflow.states.errors import NotFound
from tests import factories as f
from tests.notifications.conftest import DEADLINE, assign, build_world, local

EMAIL = ["email"]


def _messages(session: Session, **where) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(OutboxMessage, name) == value)
    return list(session.exec(stmt))


def test_stages_fall_on_working_days_around_the_deadline():
    stages = dict(stage_dates(DEADLINE, get_settings()))  # 30/05/2025 is a Friday
    assert stages == {
        "d7": date(2025, 5, 21),
        "d3": date(2025, 5, 27),
        "d1": date(2025, 5, 29),
        "d0": date(2025, 5, 30),
        "overdue": date(2025, 6, 2),
        "escalate": date(2025, 6, 4),
    }


def test_offsets_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("PLANFLOW_REMINDER_DAYS_BEFORE", "5, 2")
    monkeypatch.setenv("PLANFLOW_ESCALATE_AFTER_DAYS", "5")
    get_settings.cache_clear()
    names = [name for name, _ in stage_dates(DEADLINE, get_settings())]
    assert names == ["d5", "d2", "d0", "overdue", "escalate"]
    assert dict(stage_dates(DEADLINE, get_settings()))["escalate"] == date(2025, 6, 6)


@pytest.mark.parametrize(
    ("day", "kinds", "subject_start"),
    [
        (date(2025, 5, 20), set(), None),
        (date(2025, 5, 21), {"reminder"}, "Nhắc hạn:"),
        (date(2025, 5, 27), {"reminder"}, "Nhắc hạn:"),
        (date(2025, 5, 30), {"reminder"}, "Hôm nay là hạn gửi báo cáo kết quả thực hiện 6 tháng"),
        (date(2025, 6, 2), {"overdue"}, "Quá hạn:"),
    ],
)
def test_each_day_queues_the_stage_it_has_reached(session, world, day, kinds, subject_start):
    result = plan_reminders(
        session=session, now=local(day.year, day.month, day.day, 6), channels=EMAIL
    )
    session.commit()
    rows = _messages(session)
    assert {r.kind for r in rows} == kinds
    assert result.messages == len(rows) == (2 if kinds else 0)
    assert all(r.subject.startswith(subject_start) for r in rows)


def test_a_second_run_the_same_day_queues_nothing(session, world):
    now = local(2025, 5, 27, 7)
    first = plan_reminders(session=session, now=now, channels=["email", "zalo", "zns"])
    session.commit()
    second = plan_reminders(
        session=session, now=local(2025, 5, 27, 18), channels=["email", "zalo", "zns"]
    )
    session.commit()
    assert first.messages == 5 and first.items == 2
    assert (second.items, second.messages) == (0, 0)


def test_each_stage_is_sent_once_and_missed_stages_are_skipped(session, world):
    days = [
        date(2025, 5, 21),
        date(2025, 5, 22),
        date(2025, 5, 29),
        date(2025, 5, 30),
        date(2025, 6, 3),
    ]  # missed d3 (27/5) and overdue (2/6)
    for day in days:
        plan_reminders(session=session, now=local(day.year, day.month, day.day), channels=EMAIL)
        session.commit()
    keys = [r.key.split(":")[:3] for r in _messages(session, unit_id=world.ward.id)]
    assert keys == [
        ["reminder", "r1", "d7"],
        ["reminder", "r1", "d1"],
        ["reminder", "r1", "d0"],
        ["overdue", "r1", "overdue"],
    ]


def test_subordinate_units_are_required_and_mass_organisations_requested(session, world):
    plan_reminders(session=session, now=local(2025, 5, 27), channels=EMAIL)
    ward = _messages(session, unit_id=world.ward.id)[0]
    union = _messages(session, unit_id=world.women.id)[0]
    assert "UBND quận Hà Đông yêu cầu UBND phường Văn Quán gửi" in ward.body_text
    assert "UBND quận Hà Đông đề nghị Hội Liên hiệp Phụ nữ quận Hà Đông gửi" in union.body_text
    assert "yêu cầu" not in union.body_text.lower()


def test_escalation_goes_to_the_receiving_agency_listing_the_overdue_units(session, world):
    world.requests["phường Văn Quán"].status = State.submitted  # this one reported
    session.commit()
    result = plan_reminders(session=session, now=local(2025, 6, 4), channels=EMAIL)
    session.commit()
    (escalation,) = _messages(session, kind="escalation")
    assert escalation.unit_id == world.standing.id
    assert escalation.address == "ldtbxh@hadong.example.vn"
    assert (
        "Hội Liên hiệp Phụ nữ quận Hà Đông: báo cáo kết quả thực hiện 6 tháng"
        in escalation.body_text
    )
    assert "Văn Quán" not in escalation.body_text
    assert "<td>Hội Liên hiệp Phụ nữ quận Hà Đông</td>" in escalation.body_html
    # the late unit hears too (its overdue stage was missed), the reported one not at all
    assert [r.kind for r in _messages(session, unit_id=world.women.id)] == ["overdue"]
    assert _messages(session, unit_id=world.ward.id) == []
    assert result.by_kind == {"escalation": 1, "overdue": 1}
    late = session.get(ReportRequest, world.requests["Hội Liên hiệp Phụ nữ quận Hà Đông"].id)
    assert not late.overdue  # the flag is the sweep's alone (services.sweep.mark_overdue)
    assert mark_overdue(session=session, today=date(2025, 6, 4)).newly_overdue == 1
    session.refresh(late)
    assert late.overdue


def test_several_items_for_one_unit_make_one_digest_a_day(session, world):
    # a second plan's annual report and an ad-hoc report for the ward, at other stages
    other = f.plan(
        session,
        world.district,
        year=2025,
        number="71/KH-UBND",
        issued_on=date(2025, 2, 20),
        standing_agency_id=world.standing.id,
    )
    f.request(
        session,
        other,
        world.ward,
        kind=ReportKind.annual,
        period="2025",
        deadline=date(2025, 5, 29),
        status=State.acknowledged,
        recipient_id=world.standing.id,
    )
    f.request(
        session,
        other,
        world.ward,
        kind=ReportKind.sub_plan,
        period="2025",
        deadline=date(2025, 5, 23),
        status=State.issued,
        recipient_id=world.standing.id,
    )
    session.commit()
    now = local(2025, 5, 27)
    plan_reminders(session=session, now=now, channels=["email", "zalo"])
    session.commit()
    digests = _messages(session, unit_id=world.ward.id)
    assert {(r.kind, r.channel) for r in digests} == {("digest", "email"), ("digest", "zalo")}
    assert all(r.key.startswith(f"digest:u{world.ward.id}:2025-05-27:") for r in digests)
    body = digests[0].body_text
    assert body.index("Sắp đến hạn:") < body.index("Đã quá hạn:")
    assert "Báo cáo kết quả thực hiện năm 2025 theo Kế hoạch số 71/KH-UBND" in body
    assert "Kế hoạch thực hiện của đơn vị theo Kế hoạch số 71/KH-UBND" in body
    assert digests[0].subject == "Tổng hợp việc cần thực hiện ngày 27/5/2025 (3 nội dung)"
    # the Women's Union has a single item: its own reminder, not a digest
    assert [r.kind for r in _messages(session, unit_id=world.women.id)] == ["reminder"]


def test_new_items_after_todays_digest_wait_for_the_next_day(session, world):
    other = f.plan(session, world.district, year=2025, number="71/KH-UBND")
    for kind in (ReportKind.annual, ReportKind.sub_plan):
        f.request(
            session,
            other,
            world.ward,
            kind=kind,
            period="2025",
            deadline=DEADLINE,
            status=State.issued,
            recipient_id=world.standing.id,
        )
    session.commit()
    plan_reminders(session=session, now=local(2025, 5, 27, 7), channels=EMAIL)
    session.commit()
    assert len(_messages(session, unit_id=world.ward.id, kind="digest")) == 1
    for kind in (ReportKind.ad_hoc, ReportKind.six_month):  # issued later the same day
        f.request(
            session,
            other,
            world.ward,
            kind=kind,
            period="2025-H1" if kind == "six_month" else "2025-Q2",
            deadline=DEADLINE,
            status=State.issued,
            recipient_id=world.standing.id,
        )
    session.commit()
    later = plan_reminders(session=session, now=local(2025, 5, 27, 15), channels=EMAIL)
    session.commit()
    assert (later.messages, later.deferred) == (0, 2)
    assert len(_messages(session, unit_id=world.ward.id)) == 1
    tomorrow = plan_reminders(session=session, now=local(2025, 5, 28, 7), channels=EMAIL)
    session.commit()
    assert tomorrow.messages == 1
    digest = _messages(session, unit_id=world.ward.id)[-1]
    assert digest.key.startswith(f"digest:u{world.ward.id}:2025-05-28")
    assert "(2 nội dung)" in digest.subject


def test_closed_requests_and_units_without_contacts(session):
    world = build_world(session, ward_contacts={}, women_contacts={})
    world.requests["Hội Liên hiệp Phụ nữ quận Hà Đông"].status = State.aggregated
    session.commit()
    result = plan_reminders(session=session, now=local(2025, 5, 27), channels=EMAIL)
    assert result.requests_checked == 1
    assert result.unreachable_units == [world.ward.id] and result.messages == 0
    assert session.exec(select(ReminderMark)).all()  # the stage is recorded all the same


def test_plan_issued_tells_each_unit_its_duties_and_deadlines(session, world):
    assign(session, world.plan, world.ward, "Tổ chức tuyên truyền Luật Bình đẳng giới tại cơ sở.")
    assign(
        session,
        world.plan,
        world.women,
        "Chủ trì tổ chức các hoạt động kỷ niệm 8/3 và 20/10.",
        requested=True,
        role="coordinate",
    )
    added = notify_plan_issued(session, plan_id=world.plan.id, channels=["email", "zns"])
    again = notify_plan_issued(session, plan_id=world.plan.id, channels=["email", "zns"])
    session.commit()
    assert (added, again) == (4, 0)  # ward: e-mail + phone; union: e-mail + phone
    ward_mail, union_mail = _messages(session, kind="plan_issued", channel="email")
    assert ward_mail.subject == (
        "Triển khai Kế hoạch số 70/KH-UBND ngày 17/02/2025 của UBND quận Hà Đông"
    )
    assert "yêu cầu UBND phường Văn Quán chủ trì thực hiện" in ward_mail.body_text
    assert "Tổ chức tuyên truyền Luật Bình đẳng giới tại cơ sở." in ward_mail.body_text
    assert (
        "Báo cáo kết quả thực hiện 6 tháng đầu năm 2025: gửi Phòng Lao động - Thương binh và "
        "Xã hội quận Hà Đông trước ngày 30/5/2025."
    ) in ward_mail.body_text
    assert "đề nghị Hội Liên hiệp Phụ nữ quận Hà Đông phối hợp thực hiện" in union_mail.body_text
    zns = _messages(session, kind="plan_issued", channel="zns")
    assert {r.address for r in zns} == {"84912345678", "84987654321"}
    assert zns[0].params["deadline"] == "30/05/2025"  # ZNS: dd/mm/yyyy


def test_plan_issued_rolls_back_with_the_issue(engine, world):
    with Session(engine) as s:
        assign(s, world.plan, world.ward, "Thực hiện.")
        s.commit()
    with Session(engine) as s:
        assert notify_plan_issued(s, plan_id=world.plan.id, channels=EMAIL) == 1
        s.rollback()
    with Session(engine) as s:
        assert outbox_counts(s) == {}


def test_returned_report_carries_the_reason_once_per_return(session, world):
    request = world.requests["phường Văn Quán"]
    reason = "Thiếu số liệu tách biệt giới của chỉ tiêu 1.2; đề nghị bổ sung."
    assert notify_returned(session, request_id=request.id, reason=reason, channels=EMAIL) == 1
    assert notify_returned(session, request_id=request.id, reason=reason, channels=EMAIL) == 0
    request.version += 1  # returned again after a resubmission
    session.add(request)
    assert (
        notify_returned(session, request_id=request.id, reason="Số liệu chưa khớp.", channels=EMAIL)
        == 1
    )
    session.commit()
    first, second = _messages(session, kind="returned")
    assert first.subject == "Trả lại để hoàn thiện: Báo cáo kết quả thực hiện 6 tháng đầu năm 2025"
    assert reason in first.body_text and "Số liệu chưa khớp." in second.body_text
    assert first.body_text.startswith("Kính gửi: UBND phường Văn Quán")
    assert "Phòng Lao động - Thương binh và Xã hội quận Hà Đông trả lại báo cáo" in first.body_text


def test_report_requested_and_unknown_ids(session, world):
    request = world.requests["Hội Liên hiệp Phụ nữ quận Hà Đông"]
    assert notify_report_requested(session, request_id=request.id, channels=EMAIL) == 1
    (row,) = _messages(session, kind="report_requested")
    assert row.subject == (
        "Đề nghị gửi báo cáo kết quả thực hiện 6 tháng đầu năm 2025 trước ngày 30/5/2025"
    )
    with pytest.raises(NotFound):
        notify_returned(session, request_id=9999, reason="x", channels=EMAIL)
    with pytest.raises(NotFound):
        notify_plan_issued(session, plan_id=9999, channels=EMAIL)
