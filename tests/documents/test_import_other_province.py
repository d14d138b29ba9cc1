"""A hand-written plan of another province and year (Đắk Lắk 2023, tests/documents/daklak_2023.txt):
header in capitals, a separate reporting part with numbered lines and long-form dates, lettered
sub-blocks, "UBND các huyện, thị xã, thành phố". Nothing here is specific to the Hà Nội seeds."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from planflow.documents.reading.importer import import_plan, save_plan
from planflow.models import OrgUnit, PlanDeadline
from planflow.services.hierarchy import load_units
from tests.documents.conftest import DAKLAK_2023, code_of


def test_daklak_plan_resolves_against_its_own_province(session: Session) -> None:
    load_units(session=session, province="Đắk Lắk", tiers=3)
    imported = import_plan(session=session, text_or_path=DAKLAK_2023)
    d = imported.to_dict()
    assert (d["number"], d["issued_on"], d["issuer"], d["issuer_code"]) == (
        "123/KH-UBND",
        "2023-03-05",
        "UBND tỉnh Đắk Lắk",
        "66",
    )
    assigned = [(a["block"], a["unit_code"], a["request"], a["role"]) for a in d["assignments"]]
    assert assigned[:8] == [
        ("1", "66-labour", False, "lead"),
        ("2a", "66-health", False, "lead"),
        ("2b", "66-education", False, "lead"),
        ("2c", "66-police", False, "coordinate"),  # "Công an tỉnh"
        ("2d", "66-culture", False, "lead"),  # "Sở Văn hóa, Thể thao và Du lịch"
        ("3", "66-fatherland_front", True, "coordinate"),
        ("3", "66-women_union", True, "coordinate"),
        ("4", "643", False, "lead"),  # Thành phố Buôn Ma Thuột, a "thành phố" of the province
    ]
    districts = session.exec(
        select(OrgUnit.code)
        .where(OrgUnit.tiers == 3, OrgUnit.path.startswith("66/"))
        .where(OrgUnit.kind == "committee", OrgUnit.level == "district")
    ).all()
    assert sorted(a["unit_code"] for a in d["assignments"] if a["block"] == "4") == sorted(
        districts
    )
    assert len(districts) == 15
    assert [(x["report_kind"], x["due_on"], x["to_unit_code"]) for x in d["deadlines"]] == [
        ("annual", "2024-01-15", "66"),  # the department's own report to the province …
        ("annual", "2024-01-15", None),  # … and to the ministry, which is not in the tree
        ("six_month", "2023-06-10", "66-labour"),
        ("annual", "2023-12-05", "66-labour"),
        ("sub_plan", "2023-03-31", "66-labour"),
    ]
    assert d["unresolved"] == [
        {
            "name": "Bộ Lao động - Thương binh và Xã hội",
            "reason": "không có đơn vị nào tên như vậy bên cạnh UBND Tỉnh Đắk Lắk",
            "where": "deadline",
        }
    ]

    plan = save_plan(session=session, imported=imported)
    lines = session.exec(select(PlanDeadline).where(PlanDeadline.plan_id == plan.id)).all()
    assert sorted(
        (x.kind, x.due_on, x.upward_due_on, code_of(session, x.recipient_id)) for x in lines
    ) == [
        ("annual", date(2023, 12, 5), date(2024, 1, 15), "66-labour"),
        ("six_month", date(2023, 6, 10), None, "66-labour"),
        ("sub_plan", date(2023, 3, 31), None, "66-labour"),
    ]
    assert plan.parent_id is None  # the ministry's plan is referred to, not stored
