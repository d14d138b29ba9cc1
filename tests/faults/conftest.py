"""A small plan tree the fault tests share: a city, two districts, their wards, issued requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlmodel import Session

from planflow.models import Level, Plan, ReportRequest, State, UnitKind
from planflow.services.catalogue import load_indicators
from planflow.states import fire
from tests import factories as f


@dataclass
class Tree:
    top: Plan
    subs: list[Plan]
    requests: dict[str, ReportRequest]  # by unit name

    def ids(self) -> dict[str, int]:
        return {name: r.id for name, r in self.requests.items()}


def build_tree(session: Session, *, issue_subs: bool = True) -> Tree:
    """City plan (issued) → two district sub-plans → ward requests, all six-month 2025-H1."""
    load_indicators(session=session)
    city = f.unit(session, "Thành phố Hà Nội", code="01")
    s_city = f.unit(session, "Sở LĐTBXH", parent=city, kind=UnitKind.agency, role_key="labour")
    top = f.plan(session, city, standing_agency_id=s_city.id, number="9/KH-UBND",
                 status=State.issued)
    subs, requests = [], {}
    for d_code, d_name, wards in [
        ("001", "Quận Ba Đình", [("00001", "Phường Phúc Xá"), ("00004", "Phường Trúc Bạch")]),
        ("002", "Quận Hoàn Kiếm", [("00037", "Phường Hàng Bạc")]),
    ]:
        district = f.unit(session, d_name, parent=city, level=Level.district, code=d_code)
        agency = f.unit(session, "Phòng LĐTBXH", parent=district, kind=UnitKind.agency,
                        role_key="labour", code=f"{d_code}-LD")
        sub = f.plan(session, district, parent_id=top.id, root_id=top.id, depth=1,
                     standing_agency_id=agency.id, status=State.issued if issue_subs else
                     State.drafted)
        subs.append(sub)
        row = f.request(session, top, district, recipient_id=s_city.id)
        fire(session, row, "issue", actor="test")
        requests[d_name] = row
        for w_code, w_name in wards:
            ward = f.unit(session, w_name, parent=district, level=Level.ward, code=w_code)
            row = f.request(session, sub, ward, deadline=date(2025, 5, 20),
                            recipient_id=agency.id)
            if issue_subs:
                fire(session, row, "issue", actor="test")
            requests[w_name] = row
    session.flush()
    return Tree(top=top, subs=subs, requests=requests)


@pytest.fixture
def tree(session: Session) -> Tree:
    built = build_tree(session)
    session.commit()
    return built
