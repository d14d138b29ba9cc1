"""The real flows, run under Prefect's test server, and the artifacts they publish."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from planflow.flows.plans import cascade_plan_flow, issue_plan_flow, reconcile_flow
from planflow.flows.reports import (
    FigureInput,
    aggregate_many_flow,
    aggregate_period_flow,
    record_acknowledgement_flow,
    record_submission_flow,
)
from planflow.flows.runtime import artifact_key
from planflow.models import OrgUnit, Plan, ReportKind, ReportRequest, State
from planflow.services.catalogue import load_indicators
from tests import factories as f
from tests.flows.conftest import artifact_table

pytestmark = pytest.mark.flows


@pytest.fixture
def hanoi(engine) -> int:
    with Session(engine) as s:
        f.hanoi_units(s)
        load_indicators(session=s)
        plan = f.hanoi_plan(s, issue=False)
        s.commit()
        return plan.id


def _count(engine, model, *where) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_issue_flow_issues_cascades_and_publishes(engine, hanoi: int) -> None:
    summary = issue_plan_flow(hanoi, actor="Sở LĐTBXH")
    assert summary.issued and summary.sub_plans_created == 556
    assert summary.requests_issued == _count(
        engine, ReportRequest, ReportRequest.plan_id == hanoi, ReportRequest.status == State.issued
    )
    table = artifact_table(artifact_key("phan-cap", hanoi))
    assert len(table) == 30
    assert {"Đơn vị": "Quận Hà Đông", "Kế hoạch cấp dưới mới tạo": "16"} in table


def test_cascade_killed_midway_is_finished_by_a_re_run(
    engine, hanoi: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from planflow.services import cascade as service

    with Session(engine) as s:
        from planflow.states import fire

        fire(s, s.get(Plan, hanoi), "issue", actor="op")
        s.commit()
    real = service.cascade_plan
    calls = {"n": 0}

    def crash_after_five(**kwargs):
        calls["n"] += 1
        if calls["n"] > 5:
            raise RuntimeError("injected crash after 5 batches")
        return real(**kwargs)

    monkeypatch.setattr(service, "cascade_plan", crash_after_five)
    with pytest.raises(RuntimeError, match="injected crash"):
        cascade_plan_flow(hanoi, units_per_task=1)  # one task per district subtree
    partial = _count(engine, Plan, Plan.root_id == hanoi)
    assert 0 < partial < 556
    monkeypatch.setattr(service, "cascade_plan", real)
    summary = cascade_plan_flow(hanoi)
    assert summary.created == 556 - partial and summary.existing == partial
    assert _count(engine, Plan, Plan.root_id == hanoi) == 556
    with Session(engine) as s:
        pairs = s.exec(select(Plan.parent_id, Plan.issuer_id).where(Plan.root_id == hanoi)).all()
    assert len(pairs) == len(set(pairs))  # no duplicates
    assert reconcile_flow() == []  # nothing left for the scheduled reconcile


def test_record_and_aggregate_flows_publish_completeness(engine, hanoi: int) -> None:
    issue_plan_flow(hanoi, actor="op")
    with Session(engine) as s:
        ha_dong = s.exec(
            select(Plan).join(OrgUnit, OrgUnit.id == Plan.issuer_id).where(OrgUnit.code == "268")
        ).one()
        plan_id = ha_dong.id
        ha_dong.number, ha_dong.signer_name = "70/KH-UBND", "Trần Thị Lương An"
        ha_dong.issued_on = datetime(2025, 2, 17).date()
        s.add(ha_dong)
        s.commit()
    issue_plan_flow(plan_id, actor="UBND quận Hà Đông", cascade=False)
    with Session(engine) as s:
        requests = s.exec(
            select(ReportRequest, OrgUnit)
            .join(OrgUnit, OrgUnit.id == ReportRequest.unit_id)
            .where(ReportRequest.plan_id == plan_id, ReportRequest.kind == ReportKind.six_month)
            .order_by(OrgUnit.code)
        ).all()
    wards = [(r.id, u) for r, u in requests if u.level == "ward"]
    assert len(wards) == 15
    first, second = wards[0], wards[1]
    assert record_acknowledgement_flow(first[0], actor=first[1].name) == State.acknowledged
    record_submission_flow(
        first[0],
        {
            "HD-TT-NG": FigureInput(male=12, female=30),
            "NQ28-3.2": FigureInput(numerator=4, denominator=5),
        },
        actor=first[1].name,
        unit_code=first[1].code,
        period="2025-H1",
        received_at=datetime(2025, 5, 19, 9, 0, tzinfo=UTC),
    )
    record_submission_flow(
        second[0], {"HD-TT-NG": FigureInput(male=3, female=2, total=5)}, actor=second[1].name,
        received_at=datetime(2025, 5, 26, 9, 0, tzinfo=UTC),
    )
    summary = aggregate_period_flow(hanoi, ReportKind.six_month, "2025-H1", actor="Sở LĐTBXH")
    assert summary.aggregated_requests == 2
    completeness = {row["Đơn vị"]: row for row in artifact_table(
        artifact_key("tinh-hinh-nop", hanoi, "six_month", "2025-H1")
    )}
    row = completeness["UBND Quận Hà Đông"]
    assert (row["Đúng hạn"], row["Muộn"]) == ("1", "1")
    assert int(row["Chưa nộp"]) == int(row["Phải nộp"]) - 2
    assert row["Đơn vị nộp muộn"] == f"UBND {second[1].name}"
    figures = {r["Mã"]: r for r in artifact_table(
        artifact_key("so-lieu-tong-hop", hanoi, "six_month", "2025-H1")
    )}
    columns = list(figures["HD-TT-NG"])
    assert columns[1:3] == ["Nữ", "Nam"]  # Nữ before Nam, the figures before the long name
    assert columns[-1] == "Tên chỉ tiêu"
    assert (figures["HD-TT-NG"]["Nữ"], figures["HD-TT-NG"]["Nam"]) == ("32", "15")
    assert figures["NQ28-3.2"]["Giá trị"] == "80" and figures["NQ28-3.2"]["Đánh giá"] == "đạt"


def test_refused_submission_fails_the_flow_and_changes_nothing(engine, hanoi: int) -> None:
    issue_plan_flow(hanoi, actor="op", cascade=False)
    with Session(engine) as s:
        request_id = s.exec(
            select(ReportRequest.id).where(ReportRequest.plan_id == hanoi)
        ).first()
    from planflow.states import ValidationFailed

    with pytest.raises(ValidationFailed, match=r"figures.HD-TT-NG: nữ 2 \+ nam 1 = 3"):
        record_submission_flow(
            request_id, {"HD-TT-NG": FigureInput(male=1, female=2, total=4)}, actor="x"
        )
    with Session(engine) as s:
        assert s.get(ReportRequest, request_id).status == State.issued




def _paused_issue_run(plan_id: int):
    """Start issue-plan with approval in a thread; return (thread, outcome, paused run)."""
    import threading
    import time as clock

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    outcome: dict = {}
    runner = threading.Thread(
        target=lambda: outcome.setdefault(
            "summary", issue_plan_flow(plan_id, actor="op", require_approval=True, cascade=False)
        )
    )
    runner.start()
    with get_client(sync_client=True) as client:
        for _ in range(240):
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                )
            )
            if runs:
                return runner, outcome, runs[0]
            clock.sleep(0.5)
    raise AssertionError("the issue-plan run never paused for approval")


def test_issue_waits_for_an_approval_entered_for_the_paused_run(engine, hanoi: int) -> None:
    from prefect import resume_flow_run
    from prefect.client.orchestration import get_client

    from planflow.models import TransitionLog

    runner, outcome, paused = _paused_issue_run(hanoi)
    assert paused.name == "ban hành 1/KH-UBND"
    assert _count(engine, ReportRequest, ReportRequest.status == State.issued) == 0
    with get_client(sync_client=True) as client:
        inputs = client.filter_flow_run_input(
            flow_run_id=paused.id, key_prefix="paused", limit=10, exclude_keys=set()
        )
    description = next(i.value for i in inputs if i.key.endswith("-description"))
    assert "1/KH-UBND" in description and "Thành phố Hà Nội" in description
    for empty in ({}, {"approver": "", "decision": "phê duyệt", "comment": "x"},
                  {"approver": "Nguyễn Văn A", "decision": "có", "comment": "x"},
                  {"approver": "Nguyễn Văn A", "decision": "phê duyệt", "comment": ""}):
        with pytest.raises(RuntimeError, match="Cannot resume"):
            resume_flow_run(paused.id, run_input=empty)
    assert _count(engine, ReportRequest, ReportRequest.status == State.issued) == 0
    resume_flow_run(paused.id, run_input={
        "approver": "Phó Giám đốc Sở LĐTBXH", "decision": "phê duyệt", "comment": "Đồng ý",
    })
    runner.join(timeout=120)
    summary = outcome["summary"]
    assert summary.issued and summary.approver == "Phó Giám đốc Sở LĐTBXH"
    with Session(engine) as s:
        assert s.get(Plan, hanoi).status == State.issued
        log = s.exec(select(TransitionLog).where(TransitionLog.entity == "plan")).one()
        assert (log.trigger, log.actor) == ("issue", "op")
        assert (log.approver, log.comment) == ("Phó Giám đốc Sở LĐTBXH", "Đồng ý")


def test_a_refusal_leaves_the_plan_drafted_with_its_own_audit_row(engine, hanoi: int) -> None:
    from prefect import resume_flow_run

    from planflow.models import TransitionLog

    runner, outcome, paused = _paused_issue_run(hanoi)
    resume_flow_run(paused.id, run_input={
        "approver": "Chủ tịch UBND", "decision": "không phê duyệt", "comment": "Sửa mục II",
    })
    runner.join(timeout=120)
    assert outcome["summary"].issued is False
    with Session(engine) as s:
        assert s.get(Plan, hanoi).status == State.drafted
        log = s.exec(select(TransitionLog).where(TransitionLog.entity == "plan")).one()
        assert (log.trigger, log.from_state, log.to_state) == ("refuse", "drafted", "drafted")
        assert (log.approver, log.comment) == ("Chủ tịch UBND", "Sửa mục II")
    assert _count(engine, ReportRequest, ReportRequest.status == State.issued) == 0


def test_issue_of_an_incomplete_plan_fails_before_asking_for_approval(engine) -> None:
    with Session(engine) as s:
        f.hanoi_units(s)
        plan = f.hanoi_plan(s, issue=False)
        plan.number = plan.signer_name = None
        s.add(plan)
        s.commit()
        plan_id = plan.id
    state = issue_plan_flow(plan_id, require_approval=True, return_state=True)
    assert state.is_failed()  # at once: it never paused
    assert state.message == (
        f"Kế hoạch {plan_id} chưa thể ban hành, còn thiếu: số, ký hiệu văn bản; người ký"
    )
    # the same run with the missing details as parameters issues it
    summary = issue_plan_flow(plan_id, number="05/KH-UBND", signer="Nguyễn Văn A",
                              signer_title="KT. CHỦ TỊCH", cascade=False)
    assert summary.issued and summary.number == "05/KH-UBND"
    with Session(engine) as s:
        assert s.get(Plan, plan_id).signer_title == "KT. CHỦ TỊCH"


def test_aggregate_many_compiles_each_plan_and_publishes_one_table(engine, hanoi: int) -> None:
    """Two plans of the tree at once (two districts), in one task or one task each: each
    district's report compiled from its wards, one table naming both, the same either way."""
    issue_plan_flow(hanoi, actor="op")
    with Session(engine) as s:
        districts = s.exec(
            select(Plan, OrgUnit).join(OrgUnit, OrgUnit.id == Plan.issuer_id)
            .where(OrgUnit.code.in_(["268", "001"]))
            .order_by(OrgUnit.code)
        ).all()
        for plan, _ in districts:
            plan.number, plan.signer_name = f"{plan.id}/KH-UBND", "Người ký"
            plan.issued_on = datetime(2025, 2, 17).date()
            s.add(plan)
        s.commit()
        plan_ids = [p.id for p, _ in districts]
    for plan_id in plan_ids:
        issue_plan_flow(plan_id, actor="UBND quận", cascade=False)
    with Session(engine) as s:
        first_ward = {
            plan_id: s.exec(
                select(ReportRequest).join(OrgUnit, OrgUnit.id == ReportRequest.unit_id)
                .where(ReportRequest.plan_id == plan_id, OrgUnit.level == "ward",
                       ReportRequest.kind == ReportKind.six_month)
                .order_by(OrgUnit.code)
            ).first().id
            for plan_id in plan_ids
        }
    for n, request_id in enumerate(first_ward.values(), start=1):
        record_submission_flow(
            request_id, {"HD-TT-NG": FigureInput(male=n, female=10 * n)}, actor="phường",
            received_at=datetime(2025, 5, 19, 9, 0, tzinfo=UTC),
        )
    summary = aggregate_many_flow(plan_ids, ReportKind.six_month, "2025-H1", actor="Sở",
                                  plans_per_task=1)
    assert (summary.tasks, summary.compiled_units, summary.aggregated_requests) == (2, 2, 2)
    table = {row["Đơn vị"]: row for row in artifact_table(
        artifact_key("tinh-hinh-nop-nhieu", plan_ids[0], 2, "six_month", "2025-H1")
    )}
    assert set(table) == {"UBND Quận Ba Đình", "UBND Quận Hà Đông"}
    assert all(row["Đúng hạn"] == "1" for row in table.values())
    again = aggregate_many_flow(plan_ids, ReportKind.six_month, "2025-H1", actor="Sở")
    assert (again.tasks, again.compiled_units, again.aggregated_requests) == (1, 2, 0)
    from planflow.services.aggregation import compiled_figures

    with Session(engine) as s:
        totals = [
            {r.code: r for r in compiled_figures(
                s, plan_id=pid, kind=ReportKind.six_month, period="2025-H1")[1]}["HD-TT-NG"]
            for pid in plan_ids
        ]
    assert [(t.female, t.male, t.total) for t in totals] == [(10, 1, 11), (20, 2, 22)]
