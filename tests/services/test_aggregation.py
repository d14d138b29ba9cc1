"""Aggregation over a hand-built tree: exact sums, ratios, completeness and target status."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from planflow.models import Level, Report, ReportKind, ReportRequest, State, UnitKind
from planflow.services.aggregation import (
    aggregate_many,
    aggregate_period,
    compiled_figures,
)
from planflow.services.catalogue import load_indicators
from planflow.services.reporting import submit_report
from planflow.states import fire
from tests import factories as f

ON_TIME = datetime(2025, 5, 10, 3, 0, tzinfo=UTC)
LATE = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def tree(session: Session) -> dict:
    load_indicators(session=session)
    city = f.unit(session, "Thành phố Hà Nội", code="01")
    s_city = f.unit(session, "Sở LĐTBXH", parent=city, kind=UnitKind.agency, role_key="labour")
    health = f.unit(session, "Sở Y tế", parent=city, kind=UnitKind.agency, role_key="health")
    d1 = f.unit(session, "Quận Ba Đình", parent=city, level=Level.district, code="001")
    d2 = f.unit(session, "Quận Hoàn Kiếm", parent=city, level=Level.district, code="002")
    p_d1 = f.unit(session, "Phòng LĐTBXH", parent=d1, kind=UnitKind.agency, role_key="labour")
    women = f.unit(
        session, "Hội LHPN quận", parent=d1, kind=UnitKind.mass_org, subordinate=False
    )
    p_d2 = f.unit(session, "Phòng LĐTBXH", parent=d2, kind=UnitKind.agency, role_key="labour")
    w11 = f.unit(session, "Phường Phúc Xá", parent=d1, level=Level.ward, code="00001")
    w12 = f.unit(session, "Phường Trúc Bạch", parent=d1, level=Level.ward, code="00004")
    w21 = f.unit(session, "Phường Hàng Bạc", parent=d2, level=Level.ward, code="00037")
    p0 = f.plan(session, city, standing_agency_id=s_city.id, status=State.issued)
    p1 = f.plan(
        session, d1, parent_id=p0.id, root_id=p0.id, depth=1, standing_agency_id=p_d1.id
    )
    p2 = f.plan(
        session, d2, parent_id=p0.id, root_id=p0.id, depth=1, standing_agency_id=p_d2.id
    )
    reqs = {}
    for plan, unit, recipient, deadline in [
        (p0, d1, s_city, date(2025, 5, 30)),
        (p0, d2, s_city, date(2025, 5, 30)),
        (p0, health, s_city, date(2025, 5, 30)),
        (p1, w11, p_d1, date(2025, 5, 20)),
        (p1, w12, p_d1, date(2025, 5, 20)),
        (p1, women, p_d1, date(2025, 5, 20)),
        (p2, w21, p_d2, date(2025, 5, 20)),
    ]:
        row = f.request(session, plan, unit, deadline=deadline, recipient_id=recipient.id)
        fire(session, row, "issue", actor="test")
        reqs[unit.name if unit not in (p_d1, p_d2) else unit.code] = row
    ids = {k: v.id for k, v in reqs.items()}

    def send(name: str, figures: dict, at: datetime = ON_TIME) -> None:
        submit_report(session=session, request_id=ids[name], figures=figures, actor=name, at=at)

    send(
        "Phường Phúc Xá",
        {
            "HD-TT-NG": {"male": 10, "female": 20, "total": 30},
            "NQ28-2.1": {"numerator": 40, "denominator": 100},
            "HD-BL-PH": {"total": 0},
        },
    )
    send(
        "Phường Trúc Bạch",
        {"HD-TT-NG": {"male": 5, "female": 5}, "NQ28-2.1": {"numerator": 10, "denominator": 100}},
        at=LATE,
    )
    send("Quận Ba Đình", {"HD-TT-SK": {"total": 3}})
    send("Quận Hoàn Kiếm", {"NQ28-2.1": {"numerator": 30, "denominator": 50}})
    send("Sở Y tế", {"HD-TT-NG": {"male": 1, "female": 1}})
    session.commit()
    return {"p0": p0.id, "p1": p1.id, "p2": p2.id, "ids": ids}


def _figures(session: Session, plan_id: int) -> dict:
    _, rows = compiled_figures(
        session, plan_id=plan_id, kind=ReportKind.six_month, period="2025-H1"
    )
    return {r.code: r for r in rows}


def test_aggregation_sums_ratios_completeness_and_targets(session: Session, tree: dict) -> None:
    result = aggregate_period(
        session=session, plan_id=tree["p0"], kind=ReportKind.six_month, period="2025-H1",
        actor="Sở LĐTBXH",
    )
    session.commit()
    nodes = {n.plan_id: n for n in result.nodes}
    d1 = nodes[tree["p1"]]
    assert (d1.expected, d1.on_time, d1.late, d1.missing) == (3, 1, 1, 1)
    assert d1.late_units == ["UBND Phường Trúc Bạch"]
    assert d1.missing_units == ["Hội LHPN quận"]
    d2 = nodes[tree["p2"]]
    assert (d2.expected, d2.on_time, d2.late, d2.missing) == (1, 0, 0, 1)
    city = nodes[tree["p0"]]
    assert (city.expected, city.on_time, city.late, city.missing) == (3, 3, 0, 0)
    assert 0 <= d1.rate <= 100 and city.rate == 100

    ba_dinh = _figures(session, tree["p1"])
    assert (ba_dinh["HD-TT-NG"].male, ba_dinh["HD-TT-NG"].female, ba_dinh["HD-TT-NG"].total) == (
        15,
        25,
        40,
    )
    assert (ba_dinh["NQ28-2.1"].numerator, ba_dinh["NQ28-2.1"].denominator) == (50, 200)
    assert ba_dinh["NQ28-2.1"].value == 25.0
    assert ba_dinh["HD-TT-SK"].total == 3  # the district's own figures are included

    hanoi = _figures(session, tree["p0"])
    assert (hanoi["HD-TT-NG"].male, hanoi["HD-TT-NG"].female, hanoi["HD-TT-NG"].total) == (
        16,
        26,
        42,
    )
    # 80/250, re-computed from sums (the average of 25% and 60% would be 42.5%)
    assert hanoi["NQ28-2.1"].value == 32.0
    assert (hanoi["NQ28-2.1"].target, hanoi["NQ28-2.1"].status) == (50, "not met")
    assert hanoi["NQ28-4.1"].status == "cannot be assessed"
    assert hanoi["HD-BL-PH"].total == 0  # a reported zero stays zero
    assert hanoi["HD-TH-LOP"].total is None  # never reported stays None

    states = {
        r.id: r.status for r in session.exec(select(ReportRequest)).all()
    }
    ids = tree["ids"]
    assert states[ids["Phường Phúc Xá"]] == State.aggregated
    assert states[ids["Phường Trúc Bạch"]] == State.aggregated
    assert states[ids["Hội LHPN quận"]] == State.issued
    assert states[ids["Quận Ba Đình"]] == State.aggregated


def test_re_aggregation_rewrites_without_duplicates(session: Session, tree: dict) -> None:
    for _ in range(2):
        aggregate_period(
            session=session, plan_id=tree["p0"], kind=ReportKind.six_month, period="2025-H1",
            actor="op",
        )
        session.commit()
    consolidated = session.exec(select(Report).where(Report.consolidated)).all()
    assert len(consolidated) == 3
    assert _figures(session, tree["p0"])["HD-TT-NG"].total == 42


def test_several_plans_aggregate_together_as_each_would_alone(
    session: Session, tree: dict
) -> None:
    """Both districts' plans at once (one level across both trees): the same completeness,
    figures and moves as each district alone; the districts' own reports on the city plan
    are counted but stay submitted (the city compiles them)."""
    result = aggregate_many(
        session=session, plan_ids=[tree["p1"], tree["p2"]], kind=ReportKind.six_month,
        period="2025-H1", actor="Phòng LĐTBXH",
    )
    session.commit()
    nodes = {n.plan_id: n for n in result.nodes}
    assert set(nodes) == {tree["p1"], tree["p2"]}
    d1, d2 = nodes[tree["p1"]], nodes[tree["p2"]]
    assert (d1.unit, d1.expected, d1.on_time, d1.late, d1.missing) == (
        "UBND Quận Ba Đình", 3, 1, 1, 1
    )
    assert (d1.late_units, d1.missing_units) == (["UBND Phường Trúc Bạch"], ["Hội LHPN quận"])
    assert (d2.expected, d2.on_time, d2.late, d2.missing) == (1, 0, 0, 1)
    assert d2.missing_units == ["UBND Phường Hàng Bạc"]
    assert result.aggregated == 2
    ba_dinh = _figures(session, tree["p1"])
    assert (ba_dinh["HD-TT-NG"].total, ba_dinh["HD-TT-SK"].total) == (40, 3)
    assert (ba_dinh["NQ28-2.1"].numerator, ba_dinh["NQ28-2.1"].denominator) == (50, 200)
    hoan_kiem = _figures(session, tree["p2"])
    assert (hoan_kiem["NQ28-2.1"].numerator, hoan_kiem["NQ28-2.1"].denominator) == (30, 50)
    states = {r.id: r.status for r in session.exec(select(ReportRequest)).all()}
    ids = tree["ids"]
    assert states[ids["Phường Trúc Bạch"]] == State.aggregated
    assert states[ids["Quận Ba Đình"]] == states[ids["Quận Hoàn Kiếm"]] == State.submitted
    assert _figures(session, tree["p0"])["HD-TT-NG"].total is None  # the city not compiled


def test_ratio_target_met_and_le_targets() -> None:
    from planflow.models import Indicator

    srb = Indicator(
        code="x", name="x", kind="ratio", scale=100, target_op="le",
        targets={"2025": 111, "2030": 109},
    )
    from planflow.services.aggregation import assess

    assert assess(srb, {"numerator": 110, "denominator": 100}, 2025).status == "met"
    assert assess(srb, {"numerator": 110, "denominator": 100}, 2026).status == "not met"
    assert assess(srb, {"numerator": 5, "denominator": 0}, 2025).status == "cannot be assessed"
