"""Units with dates: the agency valid on a day, recorded when the three-tier tree is loaded."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from planflow.models import OrgUnit, UnitSuccessor
from planflow.services import hierarchy
from planflow.services.succession import successors, unit_on, units_on
from tests import factories as f


def _named(session: Session, name: str) -> OrgUnit:
    return session.exec(select(OrgUnit).where(OrgUnit.name == name, OrgUnit.tiers == 3)).one()


def test_standing_agency_is_labour_on_28_february_and_home_affairs_on_3_march(
    session: Session,
) -> None:
    f.hanoi_units(session)
    city = hierarchy.get_unit(session, 3, "01")
    labour = hierarchy.standing_agency(session, city)
    assert labour is not None and labour.name.startswith("Sở Lao động")
    home = _named(session, "Sở Nội vụ thành phố Hà Nội")
    assert unit_on(session, labour.id, date(2025, 2, 28)) == labour.id
    assert unit_on(session, labour.id, date(2025, 3, 3)) == home.id
    long_bien = _named(session, "Phòng Lao động - Thương binh và Xã hội quận Long Biên")
    long_bien_home = _named(session, "Phòng Nội vụ quận Long Biên")
    assert units_on(session, [labour.id, long_bien.id], date(2025, 2, 28)) == {
        labour.id: labour.id,
        long_bien.id: long_bien.id,
    }
    assert units_on(session, [labour.id, long_bien.id], date(2025, 3, 3)) == {
        labour.id: home.id,
        long_bien.id: long_bien_home.id,
    }
    # the department ended on 28/02; its row and its history stay
    session.refresh(long_bien)
    assert long_bien.valid_to == date(2025, 2, 28) and long_bien.valid_on(date(2025, 2, 28))
    assert not long_bien.valid_on(date(2025, 3, 1))
    (successor, edge), = successors(session, long_bien.id)
    assert successor.id == long_bien_home.id and not edge.whole and edge.matter == "gender_equality"
    assert "46/2025/NĐ-CP" in edge.source


def test_loading_again_records_no_second_succession(session: Session) -> None:
    hierarchy.load_units(session=session, province="Hà Nội", tiers=3)
    before = len(session.exec(select(UnitSuccessor)).all())
    hierarchy.load_units(session=session, province="Hà Nội", tiers=3)
    assert before == 31  # the city's department and the 30 districts' divisions
    assert len(session.exec(select(UnitSuccessor)).all()) == before
