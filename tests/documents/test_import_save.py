"""``save_plan``: one drafted plan with its rows; a second copy is refused; sub-plans link up."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, func, select

from planflow.documents.reading.importer import import_plan, save_plan
from planflow.models import Assignment, Plan, PlanDeadline, PlanSection, State
from planflow.services.hierarchy import get_unit
from planflow.states.errors import ValidationFailed
from tests import factories
from tests.documents.conftest import HADONG_2024, HANOI_2020, HANOI_2025, code_of


def count(session: Session, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return session.exec(query).one()


def save(session: Session, path, tiers: int = 3) -> Plan:
    plan = save_plan(
        session=session, imported=import_plan(session=session, text_or_path=path, tiers=tiers)
    )
    session.commit()
    return plan


def test_saving_the_2020_plan_writes_a_drafted_plan_and_its_rows(hanoi: Session) -> None:
    plan = save(hanoi, HANOI_2020)
    assert count(hanoi, Plan) == 1
    assert (plan.number, plan.year, plan.issued_on, plan.status) == (
        "37/KH-UBND",
        2020,
        date(2020, 2, 20),
        State.drafted,
    )
    assert code_of(hanoi, plan.issuer_id) == "01"
    assert code_of(hanoi, plan.standing_agency_id) == "01-labour"
    assert (plan.signer_name, plan.signer_title) == ("Ngô Văn Quý", "PHÓ CHỦ TỊCH")
    assert plan.signature_block == "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    assert len(plan.recipients) == 9 and plan.preamble.startswith("Năm 2020")
    assert count(hanoi, PlanSection, plan_id=plan.id, part="purpose") == 2
    assert count(hanoi, PlanSection, plan_id=plan.id, part="content") == 5
    # 9 single blocks + 4 departments of block 10 + the Fatherland Front + 30 districts
    assert count(hanoi, Assignment, plan_id=plan.id) == 44
    lines = hanoi.exec(select(PlanDeadline).where(PlanDeadline.plan_id == plan.id)).all()
    assert sorted((x.kind, x.period, x.due_on, code_of(hanoi, x.recipient_id)) for x in lines) == [
        ("annual", "2020", date(2020, 11, 30), "01-labour"),
        ("six_month", "2020-H1", date(2020, 5, 30), "01-labour"),
        ("sub_plan", "2020", date(2020, 3, 20), "01-labour"),
    ]
    front = hanoi.exec(
        select(Assignment).where(
            Assignment.plan_id == plan.id,
            Assignment.unit_id == get_unit(hanoi, 3, "01-fatherland_front").id,
        )
    ).one()
    assert front.requested and front.role == "coordinate"
    assert front.group_label.startswith("Ủy ban Mặt trận Tổ quốc Việt Nam thành phố Hà Nội")
    assert front.duties.startswith("- Phối hợp triển khai Kế hoạch")


def test_saving_the_same_plan_twice_is_refused_in_one_line(hanoi: Session) -> None:
    first = save(hanoi, HANOI_2020)
    with pytest.raises(ValidationFailed) as caught:
        save(hanoi, HANOI_2020)
    hanoi.rollback()
    message = str(caught.value)
    assert "\n" not in message
    assert message == (
        "hanoi-2020-37-KH-UBND.txt: kế hoạch 37/KH-UBND của UBND Thành phố Hà Nội (2020) đã được "
        f"lưu thành kế hoạch {first.id}"
    )
    assert count(hanoi, Plan) == 1


def test_a_draft_without_number_is_refused_a_second_time_by_its_title(hanoi: Session) -> None:
    plan = save(hanoi, HANOI_2025)
    assert (plan.number, plan.issued_on, plan.year) == (None, None, 2025)
    with pytest.raises(ValidationFailed, match="dự thảo cùng tên"):
        save(hanoi, HANOI_2025)
    hanoi.rollback()
    assert count(hanoi, Plan) == 1


def test_the_district_plan_keeps_both_of_its_deadline_levels(hanoi: Session) -> None:
    plan = save(hanoi, HADONG_2024)
    assert code_of(hanoi, plan.issuer_id) == "268"
    assert code_of(hanoi, plan.standing_agency_id) == "268-labour"
    assert plan.parent_id is None  # the city's 39/KH-UBND is not stored here
    # divisions 1–8 (block 6 once: its centre is unresolved), the Front, 15 wards
    assert count(hanoi, Assignment, plan_id=plan.id) == 24
    lines = hanoi.exec(select(PlanDeadline).where(PlanDeadline.plan_id == plan.id)).all()
    assert sorted(
        (x.kind, x.period, x.due_on, x.upward_due_on, code_of(hanoi, x.recipient_id)) for x in lines
    ) == [
        ("annual", "2024", date(2024, 11, 20), date(2024, 11, 25), "268-labour"),
        ("six_month", "2024-H1", date(2024, 5, 20), date(2024, 5, 25), "268-labour"),
    ]


def test_a_sub_plan_is_linked_to_its_stored_parent(hanoi: Session) -> None:
    city = get_unit(hanoi, 3, "01")
    parent = factories.plan(hanoi, city, year=2024, number="39/KH-UBND")
    hanoi.commit()
    plan = save(hanoi, HADONG_2024)
    assert (plan.parent_id, plan.root_id, plan.depth) == (parent.id, parent.id, 1)


def test_an_unresolved_issuer_cannot_be_saved_and_nothing_is_written(session: Session) -> None:
    imported = import_plan(session=session, text_or_path=HADONG_2024)
    with pytest.raises(ValidationFailed, match="chưa xác định được cơ quan ban hành"):
        save_plan(session=session, imported=imported)
    session.rollback()
    assert count(session, Plan) == 0
