"""A small tree for the portal: a city with a district (its Phòng LĐTBXH, two wards) and
another province with its Sở LĐTBXH; a district plan asking the wards for reports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from planflow.models import (
    AccessLink,
    IndicatorValue,
    Level,
    OrgUnit,
    OutboxMessage,
    Plan,
    Report,
    ReportKind,
    ReportRequest,
    State,
    TransitionLog,
    UnitDocument,
    UnitKind,
)
from planflow.models.time import utcnow
from planflow.notifications import links
from planflow.portal import create_app
from planflow.services.catalogue import load_indicators
from tests import factories as f


@dataclass
class PortalWorld:
    city: OrgUnit
    city_agency: OrgUnit
    district: OrgUnit
    agency: OrgUnit
    ward: OrgUnit
    sibling: OrgUnit
    other_agency: OrgUnit
    plan: Plan
    six_month: ReportRequest  # the ward's, issued
    annual: ReportRequest  # the ward's, submitted
    sub_plan: ReportRequest  # the ward's, issued
    sibling_request: ReportRequest
    tokens: dict[str, str] = field(default_factory=dict)


def build(session: Session) -> PortalWorld:
    load_indicators(session=session)
    city = f.unit(session, "thành phố Hà Nội", code="P01")
    city_agency = f.unit(
        session,
        "Sở Lao động - Thương binh và Xã hội thành phố Hà Nội",
        kind=UnitKind.agency,
        parent=city,
        role_key="labour",
        code="P01-LD",
    )
    district = f.unit(session, "quận Hà Đông", level=Level.district, parent=city, code="D268")
    agency = f.unit(
        session,
        "Phòng Lao động - Thương binh và Xã hội quận Hà Đông",
        level=Level.district,
        kind=UnitKind.agency,
        parent=district,
        role_key="labour",
        code="D268-LD",
        emails=["ldtbxh@hadong.example.vn"],
    )
    ward = f.unit(session, "phường Văn Quán", level=Level.ward, parent=district, code="W9541")
    sibling = f.unit(session, "phường Mộ Lao", level=Level.ward, parent=district, code="W9544")
    other = f.unit(session, "tỉnh Bắc Ninh", code="P27")
    other_agency = f.unit(
        session,
        "Sở Lao động - Thương binh và Xã hội tỉnh Bắc Ninh",
        kind=UnitKind.agency,
        parent=other,
        role_key="labour",
        code="P27-LD",
    )
    plan = f.plan(
        session,
        district,
        number="70/KH-UBND",
        issued_on=date(2025, 2, 17),
        standing_agency_id=agency.id,
        status=State.issued,
    )
    due = date.today() + timedelta(days=30)

    def req(unit: OrgUnit, kind: ReportKind, period: str, status: State) -> ReportRequest:
        return f.request(
            session,
            plan,
            unit,
            kind=kind,
            period=period,
            deadline=due,
            status=status,
            recipient_id=agency.id,
        )

    world = PortalWorld(
        city=city,
        city_agency=city_agency,
        district=district,
        agency=agency,
        ward=ward,
        sibling=sibling,
        other_agency=other_agency,
        plan=plan,
        six_month=req(ward, ReportKind.six_month, "2025-H1", State.issued),
        annual=req(ward, ReportKind.annual, "2025", State.submitted),
        sub_plan=req(ward, ReportKind.sub_plan, "2025", State.issued),
        sibling_request=req(sibling, ReportKind.six_month, "2025-H1", State.issued),
    )
    session.add(
        Report(
            request_id=world.annual.id,
            plan_id=plan.id,
            unit_id=ward.id,
            kind=ReportKind.annual,
            period="2025",
            narrative={"results": "Đã làm"},
        )
    )
    for name, unit in [
        ("own", ward),
        ("sibling", sibling),
        ("agency", agency),
        ("other", other_agency),
        ("city_agency", city_agency),
        ("expired", ward),
        ("revoked", ward),
    ]:
        _, world.tokens[name] = links.mint(session, unit.id)
    session.commit()
    return world


@pytest.fixture
def world(engine: Engine) -> PortalWorld:
    with Session(engine, expire_on_commit=False) as session:
        return build(session)


@pytest.fixture
def app(engine: Engine):
    return create_app(engine)


def client_for(app, token: str | None) -> TestClient:
    """A browser that opened ``token``'s link (or none)."""
    client = TestClient(app, base_url="http://127.0.0.1:8080", follow_redirects=False)
    if token is not None:
        response = client.get(f"/l/{token}")
        assert response.status_code == 303, response.text[:300]
    return client


def end_link(engine: Engine, token: str, how: str) -> None:
    """Expire or revoke the link of ``token`` after its session was opened."""
    with Session(engine) as session:
        row = session.execute(
            select(AccessLink).where(AccessLink.token_hash == links.hash_token(token))
        ).scalar_one()
        if how == "expired":
            row.expires_at = utcnow() - timedelta(seconds=1)
        else:
            row.revoked_at = utcnow()
        session.add(row)
        session.commit()


CALLERS = ("own", "sibling", "agency", "other", "expired", "revoked", "none")


@pytest.fixture
def clients(app, world: PortalWorld, engine: Engine) -> dict[str, TestClient]:
    """One browser per kind of caller; the expired and revoked ones hold a session opened
    while their link was live."""
    out = {name: client_for(app, world.tokens[name]) for name in CALLERS if name != "none"}
    out["none"] = client_for(app, None)
    end_link(engine, world.tokens["expired"], "expired")
    end_link(engine, world.tokens["revoked"], "revoked")
    return out


def csrf_of(client: TestClient, path: str = "/") -> str:
    """The CSRF token of the session, read from a page's form."""
    page = client.get(path)
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def counts(engine: Engine) -> dict[str, int]:
    """Rows of every table a portal change could touch, and every request's state."""
    tables = [
        ReportRequest,
        Report,
        IndicatorValue,
        TransitionLog,
        OutboxMessage,
        UnitDocument,
        AccessLink,
    ]
    with Session(engine) as session:
        out: dict = {
            t.__tablename__: session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in tables
        }
        out["states"] = tuple(
            session.execute(
                select(ReportRequest.id, ReportRequest.status, ReportRequest.version).order_by(
                    ReportRequest.id
                )
            ).all()
        )
        return out
