"""Aggregation racing a return, with real processes: what is compiled is exactly what is
submitted, the completeness counts agree with it, nothing is lost or counted twice; a return
after a submission was counted makes the compiled report stale until it is compiled again."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from planflow.models import (
    CompiledSource,
    IndicatorValue,
    Report,
    ReportKind,
    ReportRequest,
    State,
    TransitionLog,
)
from planflow.services.aggregation import aggregate_period, reaggregate_stale
from planflow.services.reporting import return_report, submit_report

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
ON_TIME = datetime(2025, 5, 10, 3, tzinfo=UTC)
FIGURES = {"Phường Phúc Xá": 5, "Phường Trúc Bạch": 7, "Quận Ba Đình": 100}
DONE = (State.submitted, State.aggregated)


def _submit_all(session: Session, tree) -> None:
    for name, total in FIGURES.items():
        submit_report(session=session, request_id=tree.requests[name].id,
                      figures={"HD-TT-SK": {"total": total}}, actor=name, at=ON_TIME)
    session.commit()


def _race(engine, tmp_path: Path, *, aggregate: int, ret: int, holder: str) -> dict[str, str]:
    """Run the aggregation of plan ``aggregate`` and the return of request ``ret`` in two
    processes; ``holder`` ("aggregate" or "return") keeps its transaction open while the other
    runs into it. Returns each process's one line."""
    folder = tmp_path / "barrier"
    folder.mkdir()
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = {
        role: subprocess.Popen(
            [sys.executable, "-m", "tests.faults.racers", role, url, str(target), str(folder)]
            + (["hold"] if role == holder else []),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for role, target in (("aggregate", aggregate), ("return", ret))
    }
    lines = {}
    for role, proc in procs.items():
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        assert out.count("\n") == 1, out
        lines[role] = out.strip()
    return lines


def _check_compiled(session: Session, plan_id: int) -> dict:
    """The invariants of a current compiled report, counted: its figures are exactly the sum of
    what it records as counted; everything it counted is submitted or aggregated; every report
    that is (on its plan, or its issuer's own) is counted once; completeness agrees."""
    session.expire_all()
    report = session.exec(select(Report).where(Report.plan_id == plan_id,
                                               Report.consolidated)).one()
    sources = session.exec(select(CompiledSource).where(
        CompiledSource.compiled_id == report.id)).all()
    source_ids = [s.source_id for s in sources]
    assert len(source_ids) == len(set(source_ids)), "a source counted twice"
    requests = {r.id: r for r in session.exec(select(ReportRequest)).all()}
    counted = [requests[s.request_id] for s in sources if s.request_id]
    assert all(r.status in DONE for r in counted), "counted a report that is not submitted"
    plan_requests = [r for r in requests.values() if r.plan_id == plan_id]
    done_here = {r.id for r in plan_requests if r.status in DONE}
    assert {r.id for r in counted if r.plan_id == plan_id} == done_here, "lost or extra"
    assert not [r for r in plan_requests if r.status == State.submitted], "left unaggregated"
    total = session.scalar(select(func.sum(IndicatorValue.total)).where(
        IndicatorValue.report_id.in_(source_ids), IndicatorValue.indicator_code == "HD-TT-SK"))
    compiled = session.exec(select(IndicatorValue).where(
        IndicatorValue.report_id == report.id, IndicatorValue.indicator_code == "HD-TT-SK")).one()
    assert compiled.total == total
    c = report.completeness
    assert c["on_time"] + c["late"] == len(done_here)
    assert c["expected"] == len(plan_requests)
    assert c["missing"] == c["expected"] - len(done_here)
    return {"total": compiled.total, "counted": len(counted), "stale": report.stale,
            "received": c["on_time"] + c["late"], "missing": c["missing"]}


def test_a_return_racing_the_aggregation_waits_and_is_refused(engine, tree, tmp_path):
    """The aggregation has read what it compiles and holds it; the return of one of those
    reports waits, then finds it aggregated and is refused in one Vietnamese line."""
    with Session(engine) as s:
        _submit_all(s, tree)
    ward = tree.requests["Phường Phúc Xá"].id
    lines = _race(engine, tmp_path, aggregate=tree.subs[0].id, ret=ward, holder="aggregate")
    assert lines["aggregate"] == "ok aggregated 2"
    assert lines["return"].startswith("refused IllegalTransition: báo cáo của yêu cầu")
    assert "đã được tổng hợp" in lines["return"]
    with Session(engine) as s:
        got = _check_compiled(s, tree.subs[0].id)
        assert s.get(ReportRequest, ward).status == State.aggregated
        returns = s.exec(select(TransitionLog).where(TransitionLog.trigger == "return")).all()
    # district's own submission on the city plan (100) is counted too: 5 + 7 + 100
    assert got == {"total": 112, "counted": 3, "stale": False, "received": 2, "missing": 0}
    assert returns == []


def test_a_return_that_locked_first_is_left_out_of_the_aggregation(engine, tree, tmp_path):
    """The return holds its request when the aggregation starts: the aggregation waits for it
    and compiles without the returned report (counted missing, not received)."""
    with Session(engine) as s:
        _submit_all(s, tree)
    ward = tree.requests["Phường Phúc Xá"].id
    lines = _race(engine, tmp_path, aggregate=tree.subs[0].id, ret=ward, holder="return")
    assert lines == {"aggregate": "ok aggregated 1", "return": "ok returned"}
    with Session(engine) as s:
        got = _check_compiled(s, tree.subs[0].id)
        assert s.get(ReportRequest, ward).status == State.acknowledged
    assert got == {"total": 107, "counted": 2, "stale": False, "received": 1, "missing": 1}


def test_the_districts_own_report_returned_during_its_aggregation_makes_it_stale(
    engine, tree, tmp_path
):
    """The district's own submission on the city plan is counted in its compiled report (and
    stays submitted: the city aggregates it). Returned while the district aggregates, the
    return waits, then succeeds and marks the compiled report stale; compiling again leaves
    it out."""
    with Session(engine) as s:
        _submit_all(s, tree)
    own = tree.requests["Quận Ba Đình"].id
    district = tree.subs[0].id
    lines = _race(engine, tmp_path, aggregate=district, ret=own, holder="aggregate")
    assert lines == {"aggregate": "ok aggregated 2", "return": "ok returned"}
    with Session(engine) as s:
        report = s.exec(select(Report).where(Report.plan_id == district,
                                             Report.consolidated)).one()
        assert report.stale and report.stale_since is not None
        assert s.get(ReportRequest, own).status == State.acknowledged
        audit = s.exec(select(TransitionLog).where(TransitionLog.entity == "report")).all()
        assert [(a.entity_id, a.trigger) for a in audit] == [(report.id, "stale")]
        assert "bị trả lại" in (audit[0].reason or "")
        done = reaggregate_stale(s, actor="rà soát")
        s.commit()
        assert [d.plan_id for d in done] == [district]
        got = _check_compiled(s, district)
        recompiled = s.exec(select(TransitionLog).where(TransitionLog.trigger == "recompile")).all()
    assert got == {"total": 12, "counted": 2, "stale": False, "received": 2, "missing": 0}
    assert len(recompiled) == 1


def test_stale_is_shown_in_status_and_in_the_compiled_report(session, tree):
    _submit_all(session, tree)
    district = tree.subs[0].id
    aggregate_period(session=session, plan_id=district, kind=ReportKind.six_month,
                     period="2025-H1", actor="Phòng LĐTBXH")
    session.commit()
    return_report(session=session, request_id=tree.requests["Quận Ba Đình"].id,
                  reason="Thiếu số liệu", actor="Sở LĐTBXH")
    session.commit()
    from planflow.documents.writing.render_report import report_document
    from planflow.services.status import status_summary

    stale = status_summary(session)[0]["stale_compiled_reports"]
    assert stale == [{"plan_id": district, "kind": "six_month", "period": "2025-H1"}]
    document = report_document(session, district, ReportKind.six_month, "2025-H1")
    texts = [getattr(p, "text", "") for p in document.body]
    assert any("chưa cập nhật" in t for t in texts)
    assert reaggregate_stale(session, actor="rà soát")
    session.commit()
    assert status_summary(session)[0]["stale_compiled_reports"] == []
    document = report_document(session, district, ReportKind.six_month, "2025-H1")
    assert not any("chưa cập nhật" in getattr(p, "text", "") for p in document.body)


def test_migration_0007_runs_on_a_database_holding_compiled_reports(engine, tree):
    """Adding the stale columns must not copy the report table (rows reference it): down to
    0006 and up again with submissions and a compiled report in it, nothing lost."""
    from alembic import command

    from planflow.config.db import alembic_config, current_revision, upgrade_schema

    with Session(engine) as s:
        _submit_all(s, tree)
        aggregate_period(session=s, plan_id=tree.subs[0].id, kind=ReportKind.six_month,
                         period="2025-H1", actor="Phòng LĐTBXH")
        s.commit()
        before = (s.scalar(select(func.count()).select_from(Report)),
                  s.scalar(select(func.count()).select_from(IndicatorValue)))
    with engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0006")
        conn.commit()
        assert current_revision(conn) == "0006"
    upgrade_schema(engine)
    with Session(engine) as s:
        after = (s.scalar(select(func.count()).select_from(Report)),
                 s.scalar(select(func.count()).select_from(IndicatorValue)))
        assert s.scalar(select(func.count()).select_from(Report).where(Report.stale)) == 0
    assert after == before == (4, 4)


def test_the_daily_sweep_compiles_stale_reports_again(engine, tree, prefect_server):
    """The queue of re-aggregations is the stale flag; the daily sweep flow empties it."""
    from planflow.flows.sweep import daily_sweep_flow

    district = tree.subs[0].id
    with Session(engine) as s:
        _submit_all(s, tree)
        aggregate_period(session=s, plan_id=district, kind=ReportKind.six_month,
                         period="2025-H1", actor="Phòng LĐTBXH")
        s.commit()
        return_report(session=s, request_id=tree.requests["Quận Ba Đình"].id,
                      reason="Thiếu số liệu", actor="Sở LĐTBXH")
        s.commit()
    summary = daily_sweep_flow(now=datetime(2025, 6, 2, 1, tzinfo=UTC), send=False)
    assert summary.recompiled == 1
    with Session(engine) as s:
        got = _check_compiled(s, district)
    assert got == {"total": 12, "counted": 2, "stale": False, "received": 2, "missing": 0}
    assert daily_sweep_flow(now=datetime(2025, 6, 2, 1, tzinfo=UTC), send=False).recompiled == 0
