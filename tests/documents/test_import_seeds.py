"""Importing the three seed plans against Hà Nội's loaded hierarchy: every block's unit resolved
or listed as unresolved with its reason, every deadline with its date, kind and recipient.

Expected values come from reading the seeds; unit codes are the loader's (f"{committee}-{role}").
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlmodel import Session

from planflow.documents.reading.importer import ImportedPlan, import_plan
from tests.documents.conftest import HADONG_2024, HANOI_2020, HANOI_2025, ward_codes

HANOI_DISTRICTS = [
    "001", "002", "003", "004", "005", "006", "007", "008", "009", "016", "017", "018", "019",
    "020", "021", "250", "268", "269", "271", "272", "273", "274", "275", "276", "277", "278",
    "279", "280", "281", "282",
]  # fmt: skip


def by_block(imported: ImportedPlan) -> dict[str, list[dict]]:
    blocks: dict[str, list[dict]] = defaultdict(list)
    for a in imported.to_dict()["assignments"]:
        blocks[a["block"]].append(a)
    return dict(blocks)


def codes(rows: list[dict]) -> list[str | None]:
    return [r["unit_code"] for r in rows]


def regime(imported: ImportedPlan) -> list[tuple]:
    return sorted(
        (d["report_kind"], d["due_on"], d["to_unit_code"]) for d in imported.to_dict()["deadlines"]
    )


def test_hanoi_2020_resolves_every_block(hanoi: Session) -> None:
    imported = import_plan(session=hanoi, text_or_path=HANOI_2020)
    d = imported.to_dict()
    assert (d["number"], d["issued_on"], d["issuer"], d["issuer_code"]) == (
        "37/KH-UBND",
        "2020-02-20",
        "UBND Thành phố",
        "01",
    )
    assert (d["year"], d["kind"], len(d["sections"])) == (2020, "plan", 5)
    assert d["signer"]["name"] == "Ngô Văn Quý" and d["signer"]["title"] == "PHÓ CHỦ TỊCH"
    blocks = by_block(imported)
    assert len(blocks) == 12
    singles = {n: codes(blocks[n]) for n in map(str, range(1, 10))}
    assert singles == {
        "1": ["01-labour"],
        "2": ["01-women_union"],
        "3": ["01-planning_investment"],
        "4": ["01-finance"],
        "5": ["01-home_affairs"],
        "6": ["01-justice"],
        "7": ["01-education"],
        "8": ["01-information"],
        "9": ["01-statistics"],
    }
    assert codes(blocks["10"]) == ["01-health", "01-culture", "01-agriculture", "01-police", None]
    assert all(r["group_label"].startswith("Các Sở, ngành: Y tế") for r in blocks["10"])
    assert codes(blocks["11"]) == ["01-fatherland_front", None]
    assert sorted(codes(blocks["12"])) == HANOI_DISTRICTS  # every district committee
    assert {r["group_label"] for r in blocks["12"]} == {"Ủy ban nhân dân các quận, huyện, thị xã"}
    # mass organisations are requested ("đề nghị"), departments required
    assert blocks["2"][0]["request"] and blocks["11"][0]["request"]
    assert not blocks["1"][0]["request"] and not blocks["12"][0]["request"]
    assert blocks["11"][0]["role"] == "coordinate" and blocks["1"][0]["role"] == "lead"
    assert d["unresolved"] == [
        {
            "name": "các cơ quan liên quan",
            "reason": "một nhóm, không phải một đơn vị",
            "where": "block 10",
        },
        {
            "name": "các đoàn thể chính trị Thành phố",
            "reason": "một nhóm, không phải một đơn vị",
            "where": "block 11",
        },
    ]
    assert regime(imported) == [
        ("annual", "2020-11-30", "01-labour"),
        ("six_month", "2020-05-30", "01-labour"),
        ("sub_plan", "2020-03-20", "01-labour"),
    ]


def test_hanoi_2025_draft_resolves_every_block(hanoi: Session) -> None:
    imported = import_plan(session=hanoi, text_or_path=HANOI_2025)
    d = imported.to_dict()
    assert (d["number"], d["symbol"], d["issued_on"], d["year"], d["issuer_code"]) == (
        None,
        "KH-UBND",
        None,
        2025,
        "01",
    )
    assert d["signer"]["name"] == "Vũ Thu Hà"
    blocks = by_block(imported)
    assert len(blocks) == 14
    assert [codes(blocks[str(n)]) for n in range(1, 12)] == [
        ["01-labour"],
        ["01-women_union"],
        ["01-home_affairs"],
        ["01-justice"],
        ["01-education"],
        ["01-information"],
        ["01-health"],
        ["01-culture"],
        ["01-statistics"],  # "Cục Thống kê Hà Nội"
        ["01-planning_investment"],
        ["01-finance"],
    ]
    assert codes(blocks["12"]) == [None]  # "Các Sở, ban, ngành khác"
    assert codes(blocks["13"]) == ["01-fatherland_front", None]
    assert sorted(codes(blocks["14"])) == HANOI_DISTRICTS
    assert [(u["name"], u["reason"]) for u in d["unresolved"]] == [
        ("Các Sở, ban, ngành khác", "một nhóm, không phải một đơn vị"),
        ("các đoàn thể chính trị Thành phố", "một nhóm, không phải một đơn vị"),
    ]
    assert regime(imported) == [
        ("annual", "2025-11-30", "01-labour"),
        ("six_month", "2025-05-30", "01-labour"),
        ("sub_plan", "2025-02-15", "01-labour"),
    ]


def test_hadong_2024_resolves_against_the_district_and_the_city(hanoi: Session) -> None:
    imported = import_plan(session=hanoi, text_or_path=HADONG_2024)
    d = imported.to_dict()
    assert (d["number"], d["issued_on"], d["issuer"], d["issuer_code"]) == (
        "70/KH-UBND",
        "2024-02-17",
        "UBND quận Hà Đông",
        "268",
    )
    assert d["parent_plan"] == {
        "number": "39/KH-UBND",
        "date": "2024-01-29",
        "issuer": "UBND thành phố Hà Nội",
    }
    assert d["signer"]["name"] == "Trần Thị Lương An" and len(d["sections"]) == 4
    blocks = by_block(imported)
    assert len(blocks) == 10
    assert [codes(blocks[str(n)]) for n in range(1, 10)] == [
        ["268-labour"],
        ["268-women_union"],  # "Hội Liên hiệp phụ nữ quận": the district's, not the city's
        ["268-finance_planning"],
        ["268-home_affairs"],
        ["268-justice"],
        ["268-culture", None],  # "Phòng Văn hoá …" (old tone position), "Trung tâm …"
        ["268-education"],
        ["268-health"],
        ["268-fatherland_front", None],
    ]
    assert sorted(codes(blocks["10"])) == ward_codes(hanoi, "268")  # "UBND các phường"
    assert len(blocks["10"]) == 15
    assert blocks["2"][0]["request"] and blocks["9"][0]["request"]
    assert blocks["9"][0]["role"] == "coordinate"
    assert [(u["name"], u["where"]) for u in d["unresolved"]] == [
        ("Trung tâm Văn hoá-Thông tin và TT", "block 6"),
        ("các đoàn thể quận", "block 9"),
    ]
    assert d["unresolved"][0]["reason"].startswith(
        "không có đơn vị nào tên như vậy bên cạnh UBND Quận Hà Đông"
    )
    # wards and divisions report to the district's division by 20/5 and 20/11; the division
    # reports to the district committee and to the city department by 25/5 and 25/11
    assert regime(imported) == [
        ("annual", "2024-11-20", "268-labour"),
        ("annual", "2024-11-25", "01-labour"),
        ("annual", "2024-11-25", "268"),
        ("six_month", "2024-05-20", "268-labour"),
        ("six_month", "2024-05-25", "01-labour"),
        ("six_month", "2024-05-25", "268"),
    ]
    upward = [x for x in d["deadlines"] if x["due_on"] == "2024-05-25"]
    assert {x["to_unit"] for x in upward} == {"UBND quận", "Sở Lao động - Thương binh và Xã hội"}
    assert all(x["from_units"] == ["Phòng Lao động - Thương binh và Xã hội quận"] for x in upward)


def test_two_tier_hierarchy_leaves_the_district_groups_unresolved(session: Session) -> None:
    from planflow.services.hierarchy import load_units

    load_units(session=session, province="Hà Nội", tiers=2)
    imported = import_plan(session=session, text_or_path=HANOI_2025, tiers=2)
    d = imported.to_dict()
    assert d["issuer_code"] == "01"
    assert by_block(imported)["1"][0]["unit_code"] is None  # no Sở LĐTBXH after 1/7/2025
    assert by_block(imported)["3"][0]["unit_code"] == "01-home_affairs"
    reasons = {u["name"]: u["reason"] for u in d["unresolved"]}
    assert reasons["Ủy ban nhân dân các quận, huyện, thị xã"] == (
        "không có Ủy ban nhân dân quận, huyện, thị xã nào trực thuộc UBND Thành phố Hà Nội"
    )


def test_hadong_cannot_be_placed_without_its_hierarchy(session: Session) -> None:
    imported = import_plan(session=session, text_or_path=HADONG_2024)
    d = imported.to_dict()
    assert d["issuer_code"] is None
    assert d["unresolved"][0]["where"] == "issuer"
    assert "chưa nạp" in d["unresolved"][0]["reason"]
    assert all(a["unit_code"] is None for a in d["assignments"])


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Sở Lao động Thương binh và Xã hội", "01-labour"),
        ("Sở Lao động - Thương binh và Xã hội", "01-labour"),
        ("Sở LĐTBXH", "01-labour"),
        ("Sở LĐ-TB&XH", "01-labour"),
        ("Hội Liên hiệp Phụ nữ Thành phố Hà Nội", "01-women_union"),
        ("Hội LHPN Thành phố", "01-women_union"),
        ("Cục Thống kê Hà Nội", "01-statistics"),
        ("Công an Thành phố", "01-police"),
        ("UBND Thành phố", "01"),
        ("Ủy ban nhân dân quận Hà Đông", "268"),
        ("UBND quận Hà Đông", "268"),
    ],
)
def test_city_names_resolve_in_their_spellings(hanoi: Session, name: str, code: str) -> None:
    from planflow.documents.reading.resolve import Resolver
    from planflow.services.hierarchy import get_unit

    resolver = Resolver(hanoi, get_unit(hanoi, 3, "01"))
    assert resolver.lookup(name).unit.code == code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Hội Liên hiệp phụ nữ quận", "268-women_union"),
        ("Hội LHPN", "268-women_union"),  # unqualified: the issuer's own level first
        ("Hội Liên hiệp Phụ nữ Thành phố", "01-women_union"),  # qualified: the city's
        ("Phòng Văn hoá và Thông tin", "268-culture"),
        ("Phòng Văn hóa và Thông tin", "268-culture"),
        ("Phòng LĐ-TB&XH", "268-labour"),
        ("Phòng TC-KH", "268-finance_planning"),
        ("Sở Lao động - Thương binh và Xã hội", "01-labour"),
        ("UBND quận", "268"),
        ("UBND Thành phố", "01"),
        ("cơ quan thường trực", "268-labour"),
    ],
)
def test_district_names_resolve_nearest_first(hanoi: Session, name: str, code: str) -> None:
    from planflow.documents.reading.resolve import Resolver
    from planflow.services.hierarchy import get_unit

    resolver = Resolver(hanoi, get_unit(hanoi, 3, "268"))
    assert resolver.lookup(name).unit.code == code


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Trung tâm Văn hoá-Thông tin và TT", "không có đơn vị nào tên như vậy bên cạnh"),
        ("Bộ Lao động - Thương binh và Xã hội", "không có đơn vị nào tên như vậy bên cạnh"),
        ("UBND các cấp", "một nhóm, không phải một đơn vị"),
    ],
)
def test_unknown_names_are_reported_not_guessed(hanoi: Session, name: str, reason: str) -> None:
    from planflow.documents.reading.resolve import Resolver
    from planflow.services.hierarchy import get_unit

    result = Resolver(hanoi, get_unit(hanoi, 3, "268")).lookup(name)
    assert result.units == () and result.reason.startswith(reason)
