"""Loading the official hierarchy and walking it: Hà Nội three-tier and two-tier, Đắk Lắk."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from planflow.config.hierarchy_data import divisions
from planflow.models import Level, OrgUnit, UnitKind
from planflow.services import hierarchy
from planflow.services.hierarchy import (
    child_committees,
    children,
    counterpart,
    find_province,
    load_units,
    standing_agency,
    subtree_ids,
    tree_summary,
)
from planflow.states.errors import NotFound, ValidationFailed

PROVINCE_ROLES_3 = {
    "labour", "home_affairs", "justice", "education", "health", "information", "culture",
    "planning_investment", "finance", "agriculture", "police", "statistics",
}  # fmt: skip
DISTRICT_ROLES_3 = {
    "labour", "home_affairs", "justice", "finance_planning", "culture", "education", "health",
}  # fmt: skip
MASS_ORGS = {"women_union", "fatherland_front"}


def unit(session: Session, code: str, tiers: int = 3) -> OrgUnit:
    return hierarchy.get_unit(session, tiers, code)


def count(session: Session, tiers: int, **where) -> int:
    query = select(func.count()).select_from(OrgUnit).where(OrgUnit.tiers == tiers)
    for name, value in where.items():
        query = query.where(getattr(OrgUnit, name) == value)
    return session.exec(query).one()


@pytest.fixture
def hanoi(session: Session) -> Session:
    load_units(session=session, province="Hà Nội", tiers=3)
    session.commit()
    return session


# -- three tiers -----------------------------------------------------------------------------


def test_hanoi_three_tier_has_the_city_30_districts_and_526_wards(hanoi: Session) -> None:
    city = unit(hanoi, "01")
    assert (city.name, city.level, city.depth, city.path) == (
        "Thành phố Hà Nội",
        "province",
        0,
        "01",
    )
    assert city.division_type == "thành phố trung ương" and city.parent_id is None
    districts = child_committees(hanoi, city.id)
    assert len(districts) == 30
    by_code = {d.gso_code: d.name for d in districts}
    assert by_code["001"] == "Quận Ba Đình"
    assert by_code["268"] == "Quận Hà Đông"
    assert by_code["282"] == "Huyện Mỹ Đức"
    assert by_code["269"] == "Thị xã Sơn Tây"
    assert count(hanoi, 3, level=Level.ward, kind=UnitKind.committee) == 526
    district_ids = {d.id for d in districts}
    wards = hanoi.exec(select(OrgUnit).where(OrgUnit.level == Level.ward)).all()
    assert {w.parent_id for w in wards} <= district_ids
    assert {w.depth for w in wards} == {2}


def test_hadong_wards_are_the_official_list(hanoi: Session) -> None:
    hadong = unit(hanoi, "268")
    assert (hadong.division_type, hadong.path, hadong.subordinate) == ("quận", "01/268", True)
    wards = {w.name: w for w in child_committees(hanoi, hadong.id)}
    assert len(wards) == 15
    van_phuc = wards["Phường Vạn Phúc"]
    assert (van_phuc.code, van_phuc.gso_code, van_phuc.path) == ("09544", "09544", "01/268/09544")
    assert (van_phuc.division_type, van_phuc.depth, van_phuc.label) == (
        "phường", 2, "UBND Phường Vạn Phúc",
    )  # fmt: skip
    assert {"Phường Phú La", "Phường Hà Cầu", "Phường Biên Giang"} <= set(wards)


def test_agencies_and_mass_orgs_sit_beside_the_city_and_every_district(hanoi: Session) -> None:
    city = unit(hanoi, "01")
    beside = children(hanoi, city.id, UnitKind.agency) + children(hanoi, city.id, UnitKind.mass_org)
    assert {a.role_key for a in beside} == PROVINCE_ROLES_3 | MASS_ORGS
    for body in beside:
        assert body.code == f"01-{body.role_key}"
        assert (body.level, body.depth, body.path) == ("province", 1, f"01/{body.code}")
        assert body.gso_code is None and body.parent_id == city.id
        assert body.subordinate is (body.role_key not in MASS_ORGS)
        assert (body.kind == UnitKind.mass_org) is (body.role_key in MASS_ORGS)
    labour = unit(hanoi, "01-labour")
    assert labour.name == "Sở Lao động - Thương binh và Xã hội thành phố Hà Nội"
    assert labour.short_name == "Sở LĐTBXH"
    assert {"Sở Lao động Thương binh và Xã hội", "Sở LĐ-TB&XH", "LĐTB&XH"} <= set(labour.aliases)
    assert unit(hanoi, "01-culture").name == "Sở Văn hóa và Thể thao thành phố Hà Nội"
    assert unit(hanoi, "01-statistics").name == "Cục Thống kê thành phố Hà Nội"
    assert unit(hanoi, "01-police").short_name == "Công an Thành phố"
    assert "UBMTTQ" in unit(hanoi, "01-fatherland_front").aliases
    for district in child_committees(hanoi, city.id):
        roles = {a.role_key: a for a in children(hanoi, district.id) if a.role_key}
        assert set(roles) == DISTRICT_ROLES_3 | MASS_ORGS, district.name
        assert all(a.level == Level.district and a.depth == 2 for a in roles.values())
    assert unit(hanoi, "268-finance_planning").name == "Phòng Tài chính - Kế hoạch quận Hà Đông"
    assert unit(hanoi, "269-women_union").name == "Hội Liên hiệp Phụ nữ thị xã Sơn Tây"
    assert not children(hanoi, unit(hanoi, "09544").id)  # wards have no agencies


def test_standing_agency_is_labour_at_city_and_district_in_three_tiers(hanoi: Session) -> None:
    assert standing_agency(hanoi, unit(hanoi, "01")).short_name == "Sở LĐTBXH"
    assert standing_agency(hanoi, unit(hanoi, "268")).name == (
        "Phòng Lao động - Thương binh và Xã hội quận Hà Đông"
    )
    assert standing_agency(hanoi, unit(hanoi, "09544")) is None


@pytest.mark.parametrize(
    ("department", "division"),
    [
        ("01-labour", "268-labour"),
        ("01-home_affairs", "268-home_affairs"),
        ("01-planning_investment", "268-finance_planning"),
        ("01-finance", "268-finance_planning"),
        ("01-information", "268-culture"),
        ("01-culture", "268-culture"),
        ("01-women_union", "268-women_union"),
        ("01-fatherland_front", "268-fatherland_front"),
        ("01-statistics", None),
        ("01-police", None),
        ("01-agriculture", None),
    ],
)
def test_counterpart_of_a_department_in_hadong(
    hanoi: Session, department: str, division: str | None
) -> None:
    found = counterpart(hanoi, unit(hanoi, department), unit(hanoi, "268"))
    assert (found.code if found else None) == division


def test_counterpart_of_so_ldtbxh_is_phong_ldtbxh_of_hadong(hanoi: Session) -> None:
    found = counterpart(hanoi, unit(hanoi, "01-labour"), unit(hanoi, "268"))
    assert found.name == "Phòng Lao động - Thương binh và Xã hội quận Hà Đông"
    assert counterpart(hanoi, unit(hanoi, "01"), unit(hanoi, "268")) is None  # not an agency


def test_loading_twice_creates_and_updates_nothing(hanoi: Session) -> None:
    before = count(hanoi, 3)
    again = load_units(session=hanoi, province="01", tiers=3)
    assert (again.total_created, again.total_updated) == (0, 0)
    assert again.total_existing == before == 841
    assert count(hanoi, 3) == before


def test_reload_restores_a_missing_unit_and_a_changed_name(hanoi: Session) -> None:
    hanoi.delete(unit(hanoi, "09544"))
    unit(hanoi, "01-justice").name = "renamed"
    hanoi.commit()
    result = load_units(session=hanoi, province="Ha Noi", tiers=3)
    hanoi.commit()
    hanoi.expire_all()
    assert result.created == {(Level.ward, UnitKind.committee): 1}
    assert result.updated == {(Level.province, UnitKind.agency): 1}
    assert unit(hanoi, "09544").parent_id == unit(hanoi, "268").id
    assert unit(hanoi, "01-justice").name == "Sở Tư pháp thành phố Hà Nội"


def test_subtree_and_summary_follow_the_path(hanoi: Session) -> None:
    hadong = unit(hanoi, "268")
    assert len(subtree_ids(hanoi, hadong)) == 1 + 9 + 15
    assert tree_summary(hanoi, hadong) == [
        (Level.district, UnitKind.committee, 1),
        (Level.district, UnitKind.agency, 7),
        (Level.district, UnitKind.mass_org, 2),
        (Level.ward, UnitKind.committee, 15),
    ]
    assert sum(n for *_, n in tree_summary(hanoi, unit(hanoi, "01"))) == 841
    assert len(hierarchy.province_units(hanoi, 3, "Hà Nội")) == 841


# -- two tiers -------------------------------------------------------------------------------


def test_hanoi_two_tier_has_126_communes_directly_under_the_city(session: Session) -> None:
    result = load_units(session=session, province="Hà Nội", tiers=2)
    session.commit()
    assert result.created[(Level.ward, UnitKind.committee)] == 126
    city = unit(session, "01", tiers=2)
    assert (city.name, city.depth, city.tiers) == ("Thành phố Hà Nội", 0, 2)
    communes = child_committees(session, city.id)
    assert len(communes) == 126
    assert {(c.level, c.depth) for c in communes} == {(Level.ward, 1)}
    assert "Phường Hà Đông" in {c.name for c in communes}
    assert standing_agency(session, city).name == "Sở Nội vụ thành phố Hà Nội"
    assert unit(session, "01-statistics", tiers=2).name == "Thống kê thành phố Hà Nội"
    assert unit(session, "01-science_technology", tiers=2).short_name == "Sở KH&CN"
    assert count(session, 3) == 0  # the two schemes live side by side


def test_dak_lak_loads_in_both_schemes(session: Session) -> None:
    three = load_units(session=session, province="Dak Lak", tiers=3)
    two = load_units(session=session, province="Đắk Lắk", tiers=2)
    session.commit()
    assert three.created[(Level.district, UnitKind.committee)] == 15
    assert three.created[(Level.ward, UnitKind.committee)] == 180
    assert two.created[(Level.ward, UnitKind.committee)] == 102
    old, new = unit(session, "66", tiers=3), unit(session, "66", tiers=2)
    assert old.name == new.name == "Tỉnh Đắk Lắk"
    assert (old.division_type, new.division_type) == ("tỉnh", "tỉnh")
    assert unit(session, "643").name == "Thành phố Buôn Ma Thuột"
    assert unit(session, "643").division_type == "thành phố"
    assert unit(session, "643-labour").name == (
        "Phòng Lao động - Thương binh và Xã hội thành phố Buôn Ma Thuột"
    )
    assert unit(session, "66-culture").name == "Sở Văn hóa, Thể thao và Du lịch tỉnh Đắk Lắk"
    assert unit(session, "66-police", tiers=2).short_name == "Công an tỉnh"
    assert unit(session, "24133", tiers=2).name == "Phường Buôn Ma Thuột"  # no double space
    assert standing_agency(session, new).role_key == "home_affairs"


def test_demo_contacts_give_every_unit_one_of_each(session: Session) -> None:
    load_units(session=session, province="Hà Nội", tiers=2, demo_contacts=True)
    session.commit()
    units = session.exec(select(OrgUnit)).all()
    assert all(len(u.emails) == len(u.zalo_user_ids) == len(u.phones) == 1 for u in units)
    assert unit(session, "01-home_affairs", tiers=2).emails == [
        "01-home_affairs@demo.planflow.test"
    ]


def test_all_provinces_load_in_both_schemes(session: Session) -> None:
    three = load_units(session=session, province="all", tiers=3)
    two = load_units(session=session, province="all", tiers=2)
    assert three.created[(Level.province, UnitKind.committee)] == 63
    assert three.created[(Level.district, UnitKind.committee)] == 696
    assert three.created[(Level.ward, UnitKind.committee)] == 10051
    assert two.created[(Level.province, UnitKind.committee)] == 34
    assert two.created[(Level.ward, UnitKind.committee)] == 3321
    assert count(session, 3) == three.total_created
    assert unit(session, "760").name == "Quận 1"
    assert unit(session, "760-labour").name == "Phòng Lao động - Thương binh và Xã hội Quận 1"


# -- finding provinces -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "tiers", "code"),
    [
        ("Hà Nội", 3, "01"),
        ("Ha Noi", 3, "01"),
        ("ha noi", 2, "01"),
        ("Thành phố Hà Nội", 3, "01"),
        ("TP. Hà Nội", 2, "01"),
        ("01", 3, "01"),
        ("1", 2, "01"),
        ("ha_noi", 2, "01"),
        ("thanh_pho_ha_noi", 3, "01"),
        ("Đắk Lắk", 3, "66"),
        ("Dak Lak", 2, "66"),
        ("Tỉnh Đắk Lắk", 2, "66"),
        ("Hải Phòng", 3, "31"),
        ("HẢI PHÒNG", 2, "31"),
        ("Hòa Bình", 3, "17"),
        ("Bà Rịa - Vũng Tàu", 3, "77"),
        ("TP.HCM", 2, "79"),
        ("Thừa Thiên Huế", 3, "46"),
    ],
)
def test_find_province_forgives_spelling(query: str, tiers: int, code: str) -> None:
    assert find_province(query, tiers).code == code


@pytest.mark.parametrize(("query", "tiers"), [("Atlantis", 3), ("Hà Giang", 2), ("64", 2)])
def test_find_province_names_how_to_list_valid_names(query: str, tiers: int) -> None:
    with pytest.raises(NotFound, match=f"planflow units provinces --tiers {tiers}"):
        find_province(query, tiers)


def test_tiers_other_than_2_or_3_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="--tiers phải là 3"):
        find_province("Hà Nội", 4)


def test_three_tier_data_names_its_source() -> None:
    source = divisions(3).source
    assert (source["package"], source["version"], source["data_date"]) == (
        "vietnam-provinces", "0.6.0", "2025-01-04",
    )  # fmt: skip
    assert source["counts"] == {"provinces": 63, "districts": 696, "wards": 10051}
    assert divisions(2).source["version"].startswith("2025.")
