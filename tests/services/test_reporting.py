"""Submission validation: every rule refuses bad input with the field and why, changing nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from planflow.models import IndicatorValue, Report, ReportRequest, State, TransitionLog
from planflow.services.catalogue import load_indicators
from planflow.services.reporting import acknowledge, return_report, submit_report
from planflow.states import IllegalTransition, ValidationFailed, fire
from tests import factories as f


@pytest.fixture
def request_id(session: Session) -> int:
    load_indicators(session=session)
    ward = f.unit(session, "Phường Vạn Phúc", code="09552")
    plan = f.plan(session, ward)
    row = f.request(session, plan, ward, deadline=date(2099, 5, 20))
    fire(session, row, "issue", actor="op")
    session.commit()
    return row.id


def _snapshot(session: Session) -> tuple:
    def count(model: type) -> int | None:
        return session.scalar(select(func.count()).select_from(model))

    row = session.get(ReportRequest, 1)
    session.refresh(row)
    return (count(Report), count(IndicatorValue), count(TransitionLog), row.status, row.version)


BAD = [
    ({"HD-TT-NG": {"male": -1, "female": 2}}, "figures.HD-TT-NG.male: không được âm"),
    ({"HD-TT-NG": {"male": 1.5, "female": 2}}, "figures.HD-TT-NG.male: phải là số nguyên"),
    ({"HD-TT-NG": {"male": "7", "female": 2}}, "figures.HD-TT-NG.male: phải là số nguyên"),
    ({"HD-TT-NG": {"male": True, "female": 2}}, "figures.HD-TT-NG.male: phải là số nguyên"),
    ({"HD-TT-NG": {"male": 3, "female": 4, "total": 8}}, "nữ 4 + nam 3 = 7, không bằng tổng số 8"),
    ({"HD-TT-NG": {"male": 3}}, "nhập cả nữ và nam"),
    ({"HD-TT-NG": {"total": 9}}, "có tổng số 9 nhưng thiếu nữ và nam"),
    ({"NQ28-2.1": {"numerator": 120, "denominator": 100}}, "numerator: tử số 120 lớn hơn mẫu số"),
    ({"NQ28-2.1": {"numerator": 12}}, "nhập cả tử số và mẫu số"),
    ({"HD-TT-SK": {"male": 1}}, "figures.HD-TT-SK.male: không phải trường của chỉ tiêu loại count"),
    ({"XX-99": {"total": 1}}, "figures.XX-99: mã chỉ tiêu không có trong danh mục"),
]


@pytest.mark.parametrize("figures,message", BAD)
def test_bad_figures_are_refused_and_change_nothing(
    session: Session, request_id: int, figures: dict, message: str
) -> None:
    before = _snapshot(session)
    with pytest.raises(ValidationFailed) as err:
        submit_report(session=session, request_id=request_id, figures=figures, actor="ward")
    assert message in str(err.value)
    assert f"yêu cầu báo cáo {request_id}" in str(err.value)
    session.rollback()
    assert _snapshot(session) == before


def test_wrong_period_or_unit_is_refused(session: Session, request_id: int) -> None:
    before = _snapshot(session)
    with pytest.raises(ValidationFailed, match=r"period: '2025' không khớp .* '2025-H1'"):
        submit_report(
            session=session, request_id=request_id, figures={}, actor="w", period="2025"
        )
    with pytest.raises(ValidationFailed, match=r"unit: '00001' không khớp .* '09552'"):
        submit_report(
            session=session, request_id=request_id, figures={}, actor="w", unit_code="00001"
        )
    session.rollback()
    assert _snapshot(session) == before


def test_unknown_request_is_not_found(session: Session, request_id: int) -> None:
    from planflow.states import NotFound

    with pytest.raises(NotFound, match="yêu cầu báo cáo 999"):
        submit_report(session=session, request_id=999, figures={}, actor="w")


def test_valid_submission_is_stored_and_total_is_derived(
    session: Session, request_id: int
) -> None:
    acknowledge(session=session, request_id=request_id, actor="Phường Vạn Phúc")
    report_id = submit_report(
        session=session,
        request_id=request_id,
        figures={"HD-TT-NG": {"male": 3, "female": 4}, "HD-TT-SK": {"total": 0}},
        narrative={"results": "Đã tổ chức 2 hội nghị"},
        actor="Phường Vạn Phúc",
        unit_code="09552",
        period="2025-H1",
    )
    session.commit()
    values = {
        v.indicator_code: (v.male, v.female, v.total)
        for v in session.exec(select(IndicatorValue)).scalars()
    }
    assert values == {"HD-TT-NG": (3, 4, 7), "HD-TT-SK": (None, None, 0)}
    assert session.get(Report, report_id).narrative == {"results": "Đã tổ chức 2 hội nghị"}
    assert session.get(ReportRequest, request_id).status == State.submitted


def test_returned_report_can_be_resubmitted_replacing_its_figures(
    session: Session, request_id: int
) -> None:
    first = submit_report(
        session=session, request_id=request_id, figures={"HD-TT-SK": {"total": 5}}, actor="w",
        narrative={"results": "lần đầu"},
    )
    return_report(
        session=session, request_id=request_id, reason="Thiếu số liệu tách biệt giới",
        actor="Phòng LĐTBXH",
    )
    with pytest.raises(IllegalTransition):
        return_report(session=session, request_id=request_id, reason="again", actor="x")
    again = submit_report(
        session=session,
        request_id=request_id,
        figures={"HD-TT-NG": {"male": 1, "female": 1}},
        narrative={"results": "lần hai"},
        actor="w",
    )
    session.commit()
    codes = [v.indicator_code for v in session.exec(select(IndicatorValue)).scalars()]
    assert codes == ["HD-TT-NG"]
    assert session.scalar(select(func.count()).select_from(Report)) == 1
    report = session.get(Report, again)
    assert again == first and report.narrative == {"results": "lần hai"}
    assert report.created_at < report.updated_at


def test_a_caller_that_holds_the_locked_row_and_the_catalogue_gets_the_same_rules(
    session: Session, request_id: int
) -> None:
    """``locked`` and ``catalogue`` (the portal's) spare two reads, not a rule: bad figures are
    still refused, another request's row is refused, and good figures are recorded."""
    from planflow.services.catalogue import indicators

    row = session.get(ReportRequest, request_id, with_for_update=True)
    held = indicators(session)
    before = _snapshot(session)
    with pytest.raises(ValidationFailed, match="không bằng tổng số 8"):
        submit_report(session=session, request_id=request_id, actor="ward", locked=row,
                      catalogue=held, figures={"HD-TT-NG": {"male": 3, "female": 4, "total": 8}})
    session.rollback()
    assert _snapshot(session) == before
    with pytest.raises(ValueError, match="is not request"):
        submit_report(session=session, request_id=request_id + 1, actor="ward", locked=row,
                      catalogue=held, figures={})
    row = session.get(ReportRequest, request_id, with_for_update=True)
    report_id = submit_report(session=session, request_id=request_id, actor="ward", locked=row,
                           catalogue=held, figures={"HD-TT-NG": {"male": 3, "female": 4}})
    session.commit()
    assert session.get(ReportRequest, request_id).status == State.submitted
    (value,) = session.exec(
        select(IndicatorValue).where(IndicatorValue.report_id == report_id)  # type: ignore[arg-type]
    ).scalars()
    assert (value.male, value.female, value.total) == (3, 4, 7)
