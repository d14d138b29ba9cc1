"""The daily sweep's domain part: mark the requests whose deadline has passed as overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from planflow.config.db import rows_affected
from planflow.models import ReportRequest
from planflow.states import OPEN


@dataclass(frozen=True)
class OverdueResult:
    newly_overdue: int
    overdue_total: int


def mark_overdue(*, session: Session, today: date) -> OverdueResult:
    """Flag open requests past their deadline (set-based: one UPDATE however many rows)."""
    result = session.execute(
        update(ReportRequest)
        .where(
            col(ReportRequest.status).in_(list(OPEN)),
            col(ReportRequest.deadline) < today,
            ~col(ReportRequest.overdue),
        )
        .values(overdue=True)
        .execution_options(synchronize_session=False)
    )
    total = session.scalar(
        select(func.count())
        .select_from(ReportRequest)
        .where(col(ReportRequest.status).in_(list(OPEN)), col(ReportRequest.overdue))
    )
    return OverdueResult(newly_overdue=rows_affected(result), overdue_total=total or 0)
