"""Figures bounded by the catalogue and the column; sums in 64-bit columns; the same on SQLite
and PostgreSQL. Two wards at their maximum aggregate through the district and the city."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func
from sqlmodel import select

from planflow.models import Indicator, IndicatorValue, Report, ReportKind, ReportRequest, State
from planflow.services.aggregation import aggregate_period, compiled_figures
from planflow.services.reporting import COLUMN_MAX, submit_report
from planflow.states import ValidationFailed

pytestmark = pytest.mark.faults

AT = datetime(2025, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize("value", [1_000_001, 2_000_000_000, 2**31, 10**12, 2**63, 10**30])
def test_a_figure_above_the_catalogue_maximum_is_refused_in_one_line(session, tree, value):
    ward = tree.requests["Phường Phúc Xá"].id
    with pytest.raises(ValidationFailed) as raised:
        submit_report(session=session, request_id=ward, figures={"HD-TT-SK": {"total": value}},
                      actor="ward", at=AT)
    message = str(raised.value)
    assert "\n" not in message and "figures.HD-TT-SK.total" in message
    assert "vượt mức tối đa 1.000.000 cuộc" in message
    session.rollback()
    assert session.get(ReportRequest, ward).status == State.issued
    assert session.scalar(select(func.count()).select_from(IndicatorValue)) == 0


def test_without_a_catalogue_maximum_the_column_bounds_it(session, tree):
    indicator = session.get(Indicator, "HD-TT-SK")
    indicator.maximum = None
    session.add(indicator)
    session.flush()
    ward = tree.requests["Phường Phúc Xá"].id
    too_big = re.escape("vượt mức tối đa 9.223.372.036.854.775.807")
    with pytest.raises(ValidationFailed, match=too_big):
        submit_report(session=session, request_id=ward,
                      figures={"HD-TT-SK": {"total": COLUMN_MAX + 1}}, actor="ward", at=AT)
    session.rollback()
    indicator = session.get(Indicator, "HD-TT-SK")
    indicator.maximum = None
    session.add(indicator)
    submit_report(session=session, request_id=ward, figures={"HD-TT-SK": {"total": 2**40}},
                  actor="ward", at=AT)
    session.commit()
    stored = session.exec(select(IndicatorValue.total)).one()
    assert stored == 2**40  # beyond 32 bits, kept exactly on both backends


def test_maximum_figures_sum_through_district_and_city(session, tree):
    """The issue's failure: wards at large figures made the district's and the city's sums
    overflow a 32-bit column and nothing was compiled."""
    big = 2_000_000_000  # the figure: allowed here by a catalogue that says so
    indicator = session.get(Indicator, "HD-TT-NG")
    indicator.maximum = big
    session.add(indicator)
    for name in ("Phường Phúc Xá", "Phường Trúc Bạch", "Phường Hàng Bạc"):
        submit_report(session=session, request_id=tree.requests[name].id,
                      figures={"HD-TT-NG": {"male": big, "female": big}}, actor=name, at=AT)
    session.commit()
    for sub in tree.subs:
        aggregate_period(session=session, plan_id=sub.id, kind=ReportKind.six_month,
                         period="2025-H1", actor="district")
        session.commit()
    for name in ("Quận Ba Đình", "Quận Hoàn Kiếm"):
        assert session.get(ReportRequest, tree.requests[name].id).status == State.issued
    aggregate_period(session=session, plan_id=tree.top.id, kind=ReportKind.six_month,
                     period="2025-H1", actor="city")
    session.commit()
    _, figures = compiled_figures(session, plan_id=tree.top.id, kind=ReportKind.six_month,
                                  period="2025-H1")
    row = next(f for f in figures if f.code == "HD-TT-NG")
    assert (row.male, row.female, row.total) == (3 * big, 3 * big, 6 * big)
    assert 6 * big > 2**31 - 1
    consolidated = session.scalar(
        select(func.count()).select_from(Report).where(Report.consolidated)
    )
    assert consolidated == 3  # two districts and the city
