"""What units do with a report request: acknowledge it, submit figures, get it returned.

A submission is validated before anything is written: figures are non-negative integers,
female + male = total where the indicator is disaggregated, numerator ≤ denominator where that
holds, and the unit and period match the request. A refused submission changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlmodel import Session, col

from planflow.errors import Problem
from planflow.models import (
    Indicator,
    IndicatorKind,
    IndicatorValue,
    OrgUnit,
    Report,
    ReportRequest,
    State,
)
from planflow.models.base import pk, table_of
from planflow.models.time import as_utc, end_of_local_day, utcnow
from planflow.services.catalogue import indicators
from planflow.states import IllegalTransition, NotFound, ValidationFailed, fire
from planflow.vntext import vn_int

FIELDS: dict[IndicatorKind, tuple[str, ...]] = {
    IndicatorKind.count: ("total",),
    IndicatorKind.by_sex: ("male", "female", "total"),
    IndicatorKind.ratio: ("numerator", "denominator"),
}

Figures = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class CleanValue:
    """One indicator's validated figures; None means not reported."""

    code: str
    male: int | None = None
    female: int | None = None
    total: int | None = None
    numerator: int | None = None
    denominator: int | None = None


COLUMN_MAX = 2**63 - 1  # what a figure's column (BIGINT) holds, on every backend


def maximum_of(indicator: Indicator) -> int:
    """The largest figure one unit may report for ``indicator``: its catalogue maximum, and
    never beyond the column."""
    return min(indicator.maximum or COLUMN_MAX, COLUMN_MAX)


def _problem(
    at: str,
    code: str,
    message: str,
    facts: dict[str, Any] | None = None,
    *,
    named_as: str | None = None,
) -> Problem:
    """A broken rule at input ``at``; the one-line message names ``named_as`` when given."""
    facts = dict(facts or {})
    return Problem(
        field=named_as or at,
        rule=message,
        value=facts.get("value"),
        code=code,
        at=at,
        facts=facts,
    )


def validate_figures(
    figures: Figures, catalogue: Mapping[str, Indicator]
) -> tuple[list[CleanValue], list[Problem]]:
    """Check submitted figures against the catalogue; returns the clean values and the problems."""
    clean: list[CleanValue] = []
    problems: list[Problem] = []
    for code, raw in figures.items():
        where = f"figures.{code}"
        indicator = catalogue.get(code)
        if indicator is None:
            problems.append(
                _problem(where, "unknown_indicator", "mã chỉ tiêu không có trong danh mục")
            )
            continue
        allowed = FIELDS[IndicatorKind(indicator.kind)]
        if not isinstance(raw, Mapping):
            problems.append(_problem(where, "not_fields", f"cần các trường {', '.join(allowed)}"))
            continue
        values: dict[str, int | None] = {}
        for key, value in raw.items():
            at = f"{where}.{key}"
            if key not in allowed:
                problems.append(
                    _problem(
                        at,
                        "not_a_field",
                        f"không phải trường của chỉ tiêu loại {indicator.kind} "
                        f"(cần {', '.join(allowed)})",
                    )
                )
            elif value is None:
                values[key] = None
            elif isinstance(value, bool) or not isinstance(value, int):
                problems.append(
                    _problem(
                        at, "not_whole", f"phải là số nguyên, nhận được {value!r}", {"value": value}
                    )
                )
            elif value < 0:
                problems.append(
                    _problem(at, "negative", f"không được âm, nhận được {value}", {"value": value})
                )
            elif value > (ceiling := maximum_of(indicator)):
                problems.append(
                    _problem(
                        at,
                        "above_maximum",
                        f"{vn_int(value)} vượt mức tối đa {vn_int(ceiling)} "
                        f"{indicator.unit} của chỉ tiêu (danh mục chỉ tiêu)".replace("  ", " "),
                        {"value": value, "maximum": ceiling, "unit": indicator.unit},
                    )
                )
            else:
                values[key] = value
        before = len(problems)
        problems.extend(_check_kind(where, indicator, values))
        if len(problems) == before:
            male, female = values.get("male"), values.get("female")
            if (
                indicator.kind == IndicatorKind.by_sex
                and values.get("total") is None
                and male is not None
                and female is not None
            ):
                values["total"] = male + female
            clean.append(CleanValue(code=code, **values))
    return clean, problems


def _check_kind(where: str, indicator: Indicator, v: dict[str, int | None]) -> list[Problem]:
    male, female, total = v.get("male"), v.get("female"), v.get("total")
    num, den = v.get("numerator"), v.get("denominator")
    if indicator.kind == IndicatorKind.by_sex:
        if (male is None) != (female is None):
            missing = "male" if male is None else "female"
            return [
                _problem(
                    f"{where}.{missing}",
                    "pair_sex",
                    "nhập cả nữ và nam, hoặc để trống cả hai",
                    named_as=where,
                )
            ]
        if total is not None and male is None:
            return [
                _problem(
                    f"{where}.total",
                    "total_without_parts",
                    f"có tổng số {total} nhưng thiếu nữ và nam",
                    {"total": total},
                    named_as=where,
                )
            ]
        if male is not None and female is not None and total is not None and male + female != total:
            return [
                _problem(
                    f"{where}.total",
                    "sum_mismatch",
                    f"nữ {female} + nam {male} = {female + male}, không bằng tổng số {total}",
                    {"male": male, "female": female, "total": total},
                    named_as=where,
                )
            ]
    if indicator.kind == IndicatorKind.ratio:
        if (num is None) != (den is None):
            missing = "numerator" if num is None else "denominator"
            return [
                _problem(
                    f"{where}.{missing}",
                    "pair_ratio",
                    "nhập cả tử số và mẫu số, hoặc để trống cả hai",
                    named_as=where,
                )
            ]
        if indicator.bounded and num is not None and den is not None and num > den:
            return [
                _problem(
                    f"{where}.numerator",
                    "num_exceeds_den",
                    f"tử số {num} lớn hơn mẫu số {den}",
                    {"numerator": num, "denominator": den},
                )
            ]
    return []


def _locked_request(session: Session, request_id: int) -> ReportRequest:
    row = session.get(ReportRequest, request_id, with_for_update=True)
    if row is None:
        raise NotFound(f"không có yêu cầu báo cáo {request_id}")
    return row


def acknowledge(
    *, session: Session, request_id: int, actor: str, at: datetime | None = None
) -> ReportRequest:
    """Record that the unit received the request (or an operator records it for them)."""
    row = _locked_request(session, request_id)
    at = at or utcnow()
    fire(session, row, "acknowledge", actor=actor, at=at)
    row.acknowledged_at, row.acknowledged_by = at, actor
    session.add(row)
    session.flush()
    return row


def submission_values(row: ReportRequest, at: datetime) -> dict[str, Any]:
    """What a submission records beside its state: when, and whether after the deadline's day
    (Hà Nội time)."""
    return {"submitted_at": at, "late": at > end_of_local_day(row.deadline)}


def submit_report(
    *,
    session: Session,
    request_id: int,
    figures: Figures,
    actor: str,
    narrative: Mapping[str, str] | None = None,
    unit_code: str | None = None,
    period: str | None = None,
    at: datetime | None = None,
    locked: ReportRequest | None = None,
    catalogue: Mapping[str, Indicator] | None = None,
) -> int:
    """Validate and record a unit's report for its request; the report's id. Refused input
    changes nothing.

    ``locked``: the request's row when the caller already read it ``FOR UPDATE`` in this
    transaction (the portal's authorization does); ``catalogue``: the indicators when the
    caller holds them (the portal keeps them per process). Both default to reading them here.
    """
    row = locked if locked is not None else _locked_request(session, request_id)
    if row.id != request_id:
        raise ValueError(f"locked row {row.id} is not request {request_id}")
    if row.status == State.cancelled:
        raise IllegalTransition(
            f"yêu cầu báo cáo {request_id} đã bị hủy cùng kế hoạch: không nhận báo cáo"
        )
    problems: list[Problem] = []
    if unit_code is not None:
        unit = session.get(OrgUnit, row.unit_id)
        if unit is None or unit.code != unit_code:
            problems.append(
                _problem(
                    "unit",
                    "unit_mismatch",
                    f"'{unit_code}' không khớp với đơn vị của yêu cầu "
                    f"'{unit.code if unit else row.unit_id}'",
                )
            )
    if period is not None and period != row.period:
        problems.append(
            _problem(
                "period",
                "period_mismatch",
                f"'{period}' không khớp với kỳ báo cáo của yêu cầu '{row.period}'",
            )
        )
    clean, figure_problems = validate_figures(
        figures, catalogue if catalogue is not None else indicators(session)
    )
    problems.extend(figure_problems)
    if problems:
        raise ValidationFailed(
            f"yêu cầu báo cáo {request_id}: " + "; ".join(str(p) for p in problems), problems
        )
    at = as_utc(at) if at else utcnow()
    fire(session, row, "submit", actor=actor, at=at, values=submission_values(row, at),
         content_checked=True)
    report_id, first = _store_report(session, row, dict(narrative or {}))
    if not first:  # a report sent again replaces its figures
        session.execute(delete(IndicatorValue).where(col(IndicatorValue.report_id) == report_id))
    if clean:  # one executemany, no ORM objects: this runs once per portal submission
        session.execute(
            insert(table_of(IndicatorValue)),
            [{"report_id": report_id, "indicator_code": v.code, **_numbers(v)} for v in clean],
        )
    return report_id


def _store_report(
    session: Session, row: ReportRequest, narrative: dict[str, str]
) -> tuple[int, bool]:
    """The unit's report for ``row``: inserted, or its narrative replaced when the unit reports
    again (after a return); its id, and whether it is new. Core statements that SQLAlchemy
    compiles once (an ORM flush, or an upsert, costs a portal submission a millisecond more)."""
    table = table_of(Report)
    now = utcnow()
    found = session.execute(select(table.c.id).where(table.c.request_id == row.id)).scalar()
    if found is not None:
        session.execute(
            update(table).where(table.c.id == found).values(narrative=narrative, updated_at=now)
        )
        return found, False
    new = session.execute(
        insert(table)
        .values(
            request_id=row.id,
            plan_id=row.plan_id,
            unit_id=row.unit_id,
            kind=row.kind,
            period=row.period,
            consolidated=False,
            narrative=narrative,
            completeness={},
            stale=False,
            created_at=now,
            updated_at=now,
        )
        .returning(table.c.id)
    ).scalar_one()
    return new, True


def _numbers(value: CleanValue) -> dict[str, int | None]:
    return {
        "male": value.male,
        "female": value.female,
        "total": value.total,
        "numerator": value.numerator,
        "denominator": value.denominator,
    }


def return_report(
    *, session: Session, request_id: int, reason: str, actor: str, at: datetime | None = None
) -> ReportRequest:
    """Send a submitted report back for revision; the reason is required and reaches the unit.
    The compiled reports that counted it become stale (the sweep compiles them again)."""
    from planflow.services import aggregation, notify

    aggregation.begin_write(session)  # an aggregation under way finishes first (SQLite)
    row = _locked_request(session, request_id)
    if row.status == State.aggregated:
        raise IllegalTransition(
            f"báo cáo của yêu cầu {request_id} đã được tổng hợp lên cấp trên: không trả lại được"
        )
    fire(session, row, "return", actor=actor, reason=reason, at=at)
    aggregation.mark_stale(session, request_id=pk(row), reason=reason, actor=actor, at=at)
    notify.returned(session, request_id=pk(row), reason=reason)
    session.flush()
    return row

