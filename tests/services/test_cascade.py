"""Cascading the Hà Nội 2025 plan over the real three-tier tree."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from planflow.models import (
    Assignment,
    Level,
    OrgUnit,
    Plan,
    PlanDeadline,
    ReportKind,
    ReportRequest,
    UnitKind,
)
from planflow.services.cascade import cascade_plan
from tests import factories as f

# city department → the district division that mirrors it (Hà Đông's plan 70/KH-UBND names them)
COUNTERPARTS = {
    "Sở Lao động - Thương binh và Xã hội": "Phòng Lao động - Thương binh và Xã hội quận Hà Đông",
    "Sở Nội vụ": "Phòng Nội vụ quận Hà Đông",
    "Sở Tư pháp": "Phòng Tư pháp quận Hà Đông",
    "Sở Giáo dục và Đào tạo": "Phòng Giáo dục và Đào tạo quận Hà Đông",
    "Sở Y tế": "Phòng Y tế quận Hà Đông",
    "Sở Thông tin và Truyền thông": "Phòng Văn hóa và Thông tin quận Hà Đông",
    "Sở Văn hóa và Thể thao": "Phòng Văn hóa và Thông tin quận Hà Đông",
    "Sở Kế hoạch và Đầu tư": "Phòng Tài chính - Kế hoạch quận Hà Đông",
    "Sở Tài chính": "Phòng Tài chính - Kế hoạch quận Hà Đông",
    "Hội Liên hiệp Phụ nữ": "Hội Liên hiệp Phụ nữ quận Hà Đông",
    "Ủy ban Mặt trận Tổ quốc Việt Nam": "Ủy ban Mặt trận Tổ quốc Việt Nam quận Hà Đông",
}


def _count(session: Session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def hanoi(session: Session) -> Plan:
    f.hanoi_units(session)
    plan = f.hanoi_plan(session)
    session.commit()
    return plan


def _sub_plan(session: Session, root: Plan, code: str) -> Plan:
    return session.exec(
        select(Plan).join(OrgUnit, OrgUnit.id == Plan.issuer_id).where(
            OrgUnit.code == code, Plan.root_id == root.id
        )
    ).one()


def test_cascade_gives_one_sub_plan_per_district_and_ward(session: Session, hanoi: Plan) -> None:
    result = cascade_plan(session=session, plan_id=hanoi.id)
    session.commit()
    districts = _count(session, OrgUnit, OrgUnit.level == Level.district,
                       OrgUnit.kind == UnitKind.committee)
    wards = _count(session, OrgUnit, OrgUnit.level == Level.ward)
    assert (districts, wards) == (30, 526)
    assert result.created == districts + wards
    assert _count(session, Plan, Plan.root_id == hanoi.id, Plan.depth == 1) == 30
    assert _count(session, Plan, Plan.root_id == hanoi.id, Plan.depth == 2) == 526
    assert len(result.created_by_branch) == 30
    assert result.created_by_branch["Quận Hà Đông"] == 1 + 15  # the district and its wards


def test_counterparts_and_wards_of_ha_dong(session: Session, hanoi: Plan) -> None:
    cascade_plan(session=session, plan_id=hanoi.id)
    ha_dong = _sub_plan(session, hanoi, "268")
    rows = session.exec(
        select(Assignment, OrgUnit).join(OrgUnit, OrgUnit.id == Assignment.unit_id).where(
            Assignment.plan_id == ha_dong.id
        )
    ).all()
    assigned = {unit.name: a for a, unit in rows}
    city_units = {
        a.unit_id for a in session.exec(select(Assignment).where(Assignment.plan_id == hanoi.id))
    }
    for unit_id in city_units:
        unit = session.get(OrgUnit, unit_id)
        if unit.kind == UnitKind.committee or unit.role_key in ("statistics",):
            continue
        expected = next(v for k, v in COUNTERPARTS.items() if unit.name.startswith(k))
        assert expected in assigned, f"{unit.name} should map to {expected}"
    assert assigned["Hội Liên hiệp Phụ nữ quận Hà Đông"].requested is True  # đề nghị
    assert assigned["Phòng Nội vụ quận Hà Đông"].requested is False  # yêu cầu
    # Sở KH&ĐT and Sở Tài chính both land on Phòng Tài chính - Kế hoạch, duties merged
    finance = assigned["Phòng Tài chính - Kế hoạch quận Hà Đông"].duties
    assert "Sở Kế hoạch và Đầu tư" in finance and "Sở Tài chính" in finance
    wards = [a for a, unit in rows if unit.kind == UnitKind.committee]
    assert len(wards) == 15
    assert {a.group_label for a in wards} == {"Ủy ban nhân dân các phường"}
    assert "Phường Vạn Phúc" in assigned
    assert ha_dong.standing_agency_id == assigned[
        "Phòng Lao động - Thương binh và Xã hội quận Hà Đông"
    ].unit_id


def test_derived_deadlines_level_by_level(session: Session, hanoi: Plan) -> None:
    cascade_plan(session=session, plan_id=hanoi.id)
    ha_dong = _sub_plan(session, hanoi, "268")
    lines = {
        d.kind: d
        for d in session.exec(select(PlanDeadline).where(PlanDeadline.plan_id == ha_dong.id))
    }
    # 30/5/2025 - 2 levels × 5 days = 20/5 for divisions and wards; 25/5 is a Sunday → 23/5 upward
    assert (lines[ReportKind.six_month].due_on, lines[ReportKind.six_month].upward_due_on) == (
        date(2025, 5, 20),
        date(2025, 5, 23),
    )
    assert (lines[ReportKind.annual].due_on, lines[ReportKind.annual].upward_due_on) == (
        date(2025, 11, 20),
        date(2025, 11, 25),
    )
    # unit plans flow down: the district owes its plan by 15/02 (as written), its wards 5 days later
    assert lines[ReportKind.sub_plan].upward_due_on == date(2025, 2, 15)
    assert lines[ReportKind.sub_plan].due_on == date(2025, 2, 20)
    van_phuc = session.exec(select(OrgUnit).where(OrgUnit.name == "Phường Vạn Phúc")).one()
    ward_request = session.exec(
        select(ReportRequest).where(
            ReportRequest.plan_id == ha_dong.id,
            ReportRequest.unit_id == van_phuc.id,
            ReportRequest.kind == ReportKind.six_month,
        )
    ).one()
    assert ward_request.deadline == date(2025, 5, 20)
    # the plan was drafted for Phòng LĐTBXH; on 20/5/2025 its work is Phòng Nội vụ's
    beside = select(OrgUnit).where(OrgUnit.parent_id == ha_dong.issuer_id)
    agencies = {u.id: u.name for u in session.exec(beside)}
    assert agencies[ha_dong.standing_agency_id].startswith("Phòng Lao động")
    assert agencies[ward_request.recipient_id] == "Phòng Nội vụ quận Hà Đông"
    sub_plan_request = session.exec(
        select(ReportRequest).where(
            ReportRequest.plan_id == ha_dong.id,
            ReportRequest.unit_id == van_phuc.id,
            ReportRequest.kind == ReportKind.sub_plan,
        )
    ).one()
    assert sub_plan_request.recipient_id == ha_dong.standing_agency_id  # 20/02: still LĐTBXH
    # the city plan's own deadlines are never altered by the cascade
    city_lines = {
        d.kind: d.due_on
        for d in session.exec(select(PlanDeadline).where(PlanDeadline.plan_id == hanoi.id))
    }
    assert city_lines[ReportKind.six_month] == date(2025, 5, 30)


def test_re_running_the_cascade_changes_nothing(session: Session, hanoi: Plan) -> None:
    cascade_plan(session=session, plan_id=hanoi.id)
    session.commit()
    counts = [_count(session, m) for m in (Plan, Assignment, PlanDeadline, ReportRequest)]
    again = cascade_plan(session=session, plan_id=hanoi.id)
    session.commit()
    assert (again.created, again.requests_created, again.existing) == (0, 0, 556)
    assert [_count(session, m) for m in (Plan, Assignment, PlanDeadline, ReportRequest)] == counts


def test_a_unit_added_to_the_tree_gets_just_its_sub_plan(session: Session, hanoi: Plan) -> None:
    cascade_plan(session=session, plan_id=hanoi.id)
    session.commit()
    before = _count(session, Plan)
    ha_dong = session.exec(select(OrgUnit).where(OrgUnit.code == "268")).one()
    session.add(
        OrgUnit(
            tiers=3, code="99999", name="Phường Thử Nghiệm", level=Level.ward,
            kind=UnitKind.committee, parent_id=ha_dong.id, depth=2, path=ha_dong.path + "/99999",
        )
    )
    session.commit()
    again = cascade_plan(session=session, plan_id=hanoi.id)
    session.commit()
    assert again.created == 1 and _count(session, Plan) == before + 1


def test_sub_plans_read_their_parent_sections_until_they_write_their_own(
    session: Session, hanoi: Plan
) -> None:
    from planflow.models import PlanSection
    from planflow.services.plans import sections_of

    session.add(PlanSection(plan_id=hanoi.id, part="content", position=1, number="1",
                            title="Tuyên truyền", items=["Tiếp tục đẩy mạnh truyền thông"]))
    session.flush()
    cascade_plan(session=session, plan_id=hanoi.id)
    ha_dong = _sub_plan(session, hanoi, "268")
    assert [s.title for s in sections_of(session, ha_dong)] == ["Tuyên truyền"]
    session.add(PlanSection(plan_id=ha_dong.id, part="content", position=1, number="1",
                            title="Tuyên truyền trên địa bàn quận"))
    session.flush()
    assert [s.title for s in sections_of(session, ha_dong)] == ["Tuyên truyền trên địa bàn quận"]
    assert _count(session, PlanSection) == 2  # nothing copied per sub-plan


def test_issuing_a_sub_plan_satisfies_its_request_and_cites_the_parent(
    session: Session, hanoi: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from planflow.models import OutboxMessage, Report, State
    from planflow.notifications.reminders import plan_reminders
    from planflow.services.plans import issue_plan

    monkeypatch.setenv("PLANFLOW_CHANNELS", "file")
    hanoi.status = State.drafted  # the factory issued it without requests: issue it properly
    session.add(hanoi)
    session.flush()
    issue_plan(session=session, plan_id=hanoi.id, actor="Sở LĐTBXH")
    cascade_plan(session=session, plan_id=hanoi.id)
    ha_dong = _sub_plan(session, hanoi, "268")
    tho_quan = session.exec(select(Plan).join(OrgUnit, OrgUnit.id == Plan.issuer_id).where(
        OrgUnit.name == "Phường Thổ Quan")).one()
    ha_dong.number, ha_dong.issued_on, ha_dong.signer_name = "70/KH-UBND", date(2025, 2, 14), "A"
    session.add(ha_dong)
    issue_plan(session=session, plan_id=ha_dong.id, actor="UBND Quận Hà Đông",
               at=datetime(2025, 2, 14, 3, tzinfo=UTC))
    # the district's request under the city plan is submitted, with its plan as the content
    owed = session.exec(select(ReportRequest).where(
        ReportRequest.plan_id == hanoi.id, ReportRequest.unit_id == ha_dong.issuer_id,
        ReportRequest.kind == ReportKind.sub_plan)).one()
    assert owed.status == State.submitted and not owed.late
    report = session.exec(select(Report).where(Report.request_id == owed.id)).one()
    assert report.narrative["sub_plan"] == "Kế hoạch số 70/KH-UBND ngày 14/02/2025"
    # its wards' drafts now cite the district plan by number and date
    ward_plan = session.exec(select(Plan).where(Plan.parent_id == ha_dong.id)).first()
    assert ward_plan.preamble.startswith(
        "Thực hiện Kế hoạch số 70/KH-UBND ngày 14/02/2025 của UBND Quận Hà Đông")
    # a sweep after the deadline chases the districts that did not issue theirs, not Hà Đông
    plan_reminders(session=session, now=datetime(2025, 2, 20, 1, tzinfo=UTC))
    chased = session.exec(select(OutboxMessage.unit_id).where(
        OutboxMessage.kind != "plan_issued")).all()
    assert ha_dong.issuer_id not in chased
    ba_dinh = session.exec(select(OrgUnit).where(OrgUnit.name == "Quận Ba Đình")).one()
    assert ba_dinh.id in chased
    # a ward's own plan is never mailed to the ward as an assignment to itself
    tho_quan_district = session.get(Plan, tho_quan.parent_id)
    tho_quan_district.number, tho_quan_district.issued_on = "9/KH-UBND", date(2025, 2, 14)
    tho_quan_district.signer_name = "B"
    session.add(tho_quan_district)
    issue_plan(session=session, plan_id=tho_quan_district.id, actor="UBND quận Long Biên")
    tho_quan.number, tho_quan.issued_on, tho_quan.signer_name = "3/KH-UBND", date(2025, 2, 18), "C"
    session.add(tho_quan)
    before = len(session.exec(select(OutboxMessage).where(
        OutboxMessage.unit_id == tho_quan.issuer_id)).all())
    issue_plan(session=session, plan_id=tho_quan.id, actor="UBND Phường Thổ Quan")
    after = session.exec(select(OutboxMessage).where(
        OutboxMessage.unit_id == tho_quan.issuer_id)).all()
    assert len(after) == before


def _tree_of(session: Session, root: Plan) -> dict[str, set]:
    """A cascaded tree without its ids: sub-plans, assignments, deadlines and requests, each by
    its issuer's code (the same content under two roots compares equal)."""
    code = {u.id: u.code for u in session.exec(select(OrgUnit))}
    plans = {p.id: p for p in session.exec(select(Plan).where(Plan.root_id == root.id))}
    where = Plan.root_id == root.id
    return {
        "plans": {(code[p.issuer_id], p.depth, p.title, p.standing_agency_id) for p in
                  plans.values()},
        "assignments": {
            (code[plans[a.plan_id].issuer_id], code[a.unit_id], a.role, a.duties, a.position)
            for a in session.exec(select(Assignment).join(Plan).where(where))
        },
        "deadlines": {
            (code[plans[d.plan_id].issuer_id], d.kind, d.period, d.due_on, d.upward_due_on)
            for d in session.exec(select(PlanDeadline).join(Plan).where(where))
        },
        "requests": {
            (code[plans[r.plan_id].issuer_id], code[r.unit_id], r.kind, r.period, r.deadline,
             code[r.recipient_id] if r.recipient_id else None)
            for r in session.exec(select(ReportRequest).join(Plan).where(where))
        },
    }


def test_several_plans_cascaded_at_once_get_what_each_gets_alone(
    session: Session, hanoi: Plan
) -> None:
    """``cascade_plans`` writes each level of all its plans with the same statements: every
    tree comes out as the plan's own cascade makes it, and nothing is written twice."""
    from planflow.services.cascade import cascade_plans

    second = f.hanoi_plan(session, number="2/KH-UBND")
    third = f.hanoi_plan(session, number="3/KH-UBND")
    session.commit()
    alone = cascade_plan(session=session, plan_id=hanoi.id)
    together = cascade_plans(session=session, plan_ids=[second.id, third.id, second.id])
    session.commit()
    assert together.created == 2 * alone.created
    assert together.requests_created == 2 * alone.requests_created
    expected = _tree_of(session, hanoi)
    assert expected["requests"] and expected["deadlines"]
    assert _tree_of(session, second) == expected
    assert _tree_of(session, third) == expected
    again = cascade_plans(session=session, plan_ids=[hanoi.id, second.id, third.id])
    assert (again.created, again.requests_created) == (0, 0)
