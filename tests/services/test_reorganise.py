"""The 1/7/2025 reorganisation on Hà Nội: 30 districts and 526 wards → 126 communes and wards."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from planflow.config.successor_data import successions
from planflow.demo import DemoLog, issue_sub_plans
from planflow.models import (
    Level,
    OrgUnit,
    Plan,
    ReportKind,
    ReportRequest,
    State,
    TransitionLog,
    UnitKind,
    UnitSuccessor,
)
from planflow.services import hierarchy
from planflow.services.aggregation import aggregate_period
from planflow.services.cascade import cascade_plan
from planflow.services.catalogue import load_indicators
from planflow.services.plans import issue_plan
from planflow.services.reorganise import reorganise
from planflow.services.reporting import submit_report
from planflow.states import NotFound, ValidationFailed
from tests import factories as f
from tests.conftest import built_once

ON = date(2025, 7, 1)
OPEN = (State.drafted, State.issued, State.acknowledged)


@pytest.fixture
def cycle(session: Session, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Hà Nội's 2025 plan issued and cascaded on three tiers, every sub-plan issued, Phường
    Mộ Lao's six-month report submitted and the period aggregated: the state of June 2025."""
    from planflow.config.settings import get_settings

    monkeypatch.setenv("PLANFLOW_CHANNELS", "")  # no messages: this is about the rows
    get_settings.cache_clear()
    ids = built_once(session, "reorganise-cycle", _june_2025)
    session.commit()
    return ids


def _june_2025(session: Session) -> dict:
    f.hanoi_units(session)
    load_indicators(session=session)
    plan = f.hanoi_plan(session, issue=False)
    issue_plan(session=session, plan_id=plan.id, actor="Sở LĐTBXH")
    cascade_plan(session=session, plan_id=plan.id)
    issue_sub_plans(session, plan.id, DemoLog())
    mo_lao = session.exec(select(OrgUnit).where(OrgUnit.name == "Phường Mộ Lao")).one()
    h1 = session.exec(
        select(ReportRequest).where(
            ReportRequest.unit_id == mo_lao.id, ReportRequest.kind == ReportKind.six_month
        )
    ).one()
    submit_report(session=session, request_id=h1.id, actor="UBND Phường Mộ Lao",
                  figures={"HD-TT-NG": {"male": 12, "female": 30}},
                  at=datetime(2025, 5, 12, 3, tzinfo=UTC))
    aggregate_period(session=session, plan_id=plan.id, kind=ReportKind.six_month,
                     period="2025-H1", actor="Sở Nội vụ")
    return {"plan": plan.id, "mo_lao": mo_lao.id, "h1": h1.id}


def _old_ward_annuals(session: Session) -> dict[int, int]:
    """{request id: old ward id} of the open annual requests of Hà Nội's old wards."""
    rows = session.exec(
        select(ReportRequest.id, ReportRequest.unit_id)
        .join(OrgUnit, OrgUnit.id == ReportRequest.unit_id)
        .where(
            OrgUnit.tiers == 3,
            OrgUnit.level == Level.ward,
            OrgUnit.kind == UnitKind.committee,
            ReportRequest.kind == ReportKind.annual,
            col(ReportRequest.status).in_(OPEN),
        )
    ).all()
    return dict(rows)


def _counts(session: Session) -> dict[str, int]:
    return {
        m.__tablename__: session.scalar(select(func.count()).select_from(m))
        for m in (OrgUnit, UnitSuccessor, Plan, ReportRequest, TransitionLog)
    } | {
        "open": session.scalar(
            select(func.count()).select_from(ReportRequest)
            .where(col(ReportRequest.status).in_(OPEN))
        ),
        "inactive": session.scalar(
            select(func.count()).select_from(OrgUnit).where(~col(OrgUnit.active))
        ),
    }


def test_every_open_annual_request_of_the_526_wards_ends_at_one_of_the_126_units(
    session: Session, cycle: dict
) -> None:
    before = _old_ward_annuals(session)
    assert len(before) == 526
    result = reorganise(session=session, province="Hà Nội", on=ON)
    session.commit()
    communes = {
        u.code: u
        for u in session.exec(
            select(OrgUnit).where(
                OrgUnit.tiers == 2,
                OrgUnit.level == Level.ward,
                OrgUnit.kind == UnitKind.committee,
                OrgUnit.path.startswith("01/"),
            )
        ).all()
    }
    assert len(communes) == 126
    by_id = {u.id: u for u in communes.values()}
    rows = {r.id: r for r in session.exec(
        select(ReportRequest).where(col(ReportRequest.id).in_(list(before)))
    ).all()}
    landed: dict[int, int] = {}  # old request → the open request it now is or joined
    for request_id in before:
        row = rows[request_id]
        if row.status in OPEN:
            landed[request_id] = request_id
        else:
            assert row.status == State.cancelled
            reason = session.exec(
                select(TransitionLog.reason).where(
                    TransitionLog.entity == "report_request", TransitionLog.entity_id == row.id,
                    TransitionLog.trigger == "cancel",
                )
            ).one()
            assert reason.startswith("gộp vào yêu cầu ")
            landed[request_id] = int(reason.split()[4])
    targets = {r.id: r for r in session.exec(
        select(ReportRequest).where(col(ReportRequest.id).in_(set(landed.values())))
    ).all()}
    per_commune: Counter[str] = Counter()
    for request_id, target_id in landed.items():
        target = targets[target_id]
        assert target.status in OPEN and target.plan_id == cycle["plan"]
        assert target.unit_id in by_id  # exactly one new unit, on the city plan
        assert before[request_id] in target.origins
        per_commune[by_id[target.unit_id].code] += 1
    # the count per successor is the package's mapping (default successor of a split ward)
    old_codes = {u.id: u.code for u in session.exec(
        select(OrgUnit).where(col(OrgUnit.id).in_(list(before.values())))
    ).all()}
    expected = Counter(successions().default_commune(old_codes[w]) for w in before.values())
    assert per_commune == expected
    assert sum(per_commune.values()) == 526 and len(per_commune) == 125
    reported = result.per_successor(ReportKind.annual)
    assert Counter({u: n for u, n in reported.items() if u in by_id}) == Counter(
        {communes[c].id: n for c, n in expected.items()}
    )
    # the 126th commune (no old ward defaults to it) still owes its annual report
    annual = session.exec(
        select(ReportRequest.unit_id).where(
            ReportRequest.plan_id == cycle["plan"], ReportRequest.kind == ReportKind.annual,
            col(ReportRequest.unit_id).in_(list(by_id)),
        )
    ).all()
    assert sorted(annual) == sorted(by_id)
    # deadlines: commune → city directly, one level's lead time before 30/11; to Sở Nội vụ
    target = next(iter(targets.values()))
    home = session.get(OrgUnit, target.recipient_id)
    assert target.deadline == date(2025, 11, 25) and home.name == "Sở Nội vụ thành phố Hà Nội"
    assert home.tiers == 2
    # no unit owes two requests for one period
    dup = session.exec(
        select(ReportRequest.unit_id, ReportRequest.kind, ReportRequest.period, func.count())
        .where(ReportRequest.status != State.cancelled)
        .group_by(ReportRequest.unit_id, ReportRequest.kind, ReportRequest.period)
        .having(func.count() > 1)
    ).all()
    assert dup == []


def test_history_stays_and_a_re_run_changes_nothing(session: Session, cycle: dict) -> None:
    first = reorganise(session=session, province="Hà Nội", on=ON)
    session.commit()
    assert first.changed and first.plans_cancelled == 556 and first.plans_transferred
    counts = _counts(session)
    again = reorganise(session=session, province="Hà Nội", on=ON)
    session.commit()
    assert not again.changed, again
    assert _counts(session) == counts
    # Phường Mộ Lao: ended, its six-month report still its own and aggregated
    mo_lao = session.get(OrgUnit, cycle["mo_lao"])
    assert mo_lao.valid_to == date(2025, 6, 30) and not mo_lao.active
    h1 = session.get(ReportRequest, cycle["h1"])
    assert (h1.unit_id, h1.status) == (mo_lao.id, State.aggregated)
    # its district's plan was cancelled with a reason that names the change
    ha_dong_plan = session.get(Plan, h1.plan_id)
    assert ha_dong_plan.status == State.cancelled
    reason = session.exec(select(TransitionLog.reason).where(
        TransitionLog.entity == "plan", TransitionLog.entity_id == ha_dong_plan.id,
        TransitionLog.trigger == "cancel")).one()
    assert "Quận Hà Đông kết thúc hoạt động từ 01/7/2025" in reason and "72/2025/QH15" in reason
    # the city plan passed to the two-tier city; the reconcile cascade gives the communes
    # their sub-plans
    city_plan = session.get(Plan, cycle["plan"])
    assert session.get(OrgUnit, city_plan.issuer_id).tiers == 2
    created = cascade_plan(session=session, plan_id=city_plan.id)
    assert created.created == 126
    session.commit()


def test_both_periods_compile_on_their_own_tree(session: Session, cycle: dict) -> None:
    from planflow.services.aggregation import compiled_figures

    reorganise(session=session, province="Hà Nội", on=ON)
    session.commit()
    # H1 (due 30/5) compiles again on the three-tier tree: Phường Mộ Lao's report is in it
    h1 = aggregate_period(session=session, plan_id=cycle["plan"], kind=ReportKind.six_month,
                          period="2025-H1", actor="Sở Nội vụ")
    session.commit()
    _, figures = compiled_figures(session, plan_id=cycle["plan"], kind=ReportKind.six_month,
                                  period="2025-H1")
    talks = next(f for f in figures if f.code == "HD-TT-NG")
    assert (talks.female, talks.male, talks.total) == (30, 12, 42)  # Mộ Lao's, the only one
    assert len(h1.nodes) == 31  # the city and its 30 districts, once each
    # the annual period (due 30/11) compiles on the two-tier tree: 126 communes and the
    # departments report straight to the city; the cancelled district plans owe nothing
    year = aggregate_period(session=session, plan_id=cycle["plan"], kind=ReportKind.annual,
                            period="2025", actor="Sở Nội vụ")
    session.commit()
    city = next(n for n in year.nodes if n.plan_id == cycle["plan"])
    assert [n.plan_id for n in year.nodes] == [cycle["plan"]]
    communes = session.scalar(
        select(func.count()).select_from(ReportRequest).join(
            OrgUnit, OrgUnit.id == ReportRequest.unit_id
        ).where(ReportRequest.plan_id == cycle["plan"], ReportRequest.kind == ReportKind.annual,
                OrgUnit.tiers == 2, OrgUnit.kind == UnitKind.committee)
    )
    assert communes == 126 and city.expected >= 126
    # the compiled report says where the moved requests came from
    assert "UBND Phường Mộ Lao" in city.moved["UBND Phường Hà Đông"]
    from planflow.documents.writing.render import render_report

    text = render_report(session, plan_id=cycle["plan"], kind=ReportKind.annual,
                         period="2025", fmt="md").decode()
    assert "UBND phường Hà Đông (chuyển từ " in text and "UBND phường Mộ Lao" in text
    # the six-month report (due 30/5/2025) went to Sở Nội vụ, not the Sở LĐTBXH of January
    h1_text = render_report(session, plan_id=cycle["plan"], kind=ReportKind.six_month,
                            period="2025-H1", fmt="md").decode()
    assert "Báo cáo trực tiếp về Sở Nội vụ" in h1_text and "Sở Lao động" not in h1_text
    for node in h1.nodes + year.nodes:  # completeness never above 100 %
        assert node.on_time + node.late <= node.expected and node.rate <= 100.0


def test_bad_input_changes_nothing(session: Session) -> None:
    with pytest.raises(NotFound, match="chưa nạp đơn vị ba cấp"):
        reorganise(session=session, province="Hà Nội", on=ON)
    hierarchy.load_units(session=session, province="Hà Nội", tiers=3)
    with pytest.raises(ValidationFailed, match="2025-07-01"):
        reorganise(session=session, province="Hà Nội", on=date(2025, 6, 1))
