"""Report requests (what a unit owes), reports (what it sent) and indicator figures."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from planflow.models.enums import IndicatorKind, ReportKind, State
from planflow.models.time import utcnow


class ReportRequest(SQLModel, table=True):
    """One report one unit owes for one period of one plan."""

    __tablename__ = "report_request"
    __table_args__ = (
        UniqueConstraint("plan_id", "unit_id", "kind", "period", name="uq_request"),
        Index("ix_request_status_deadline", "status", "deadline"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    kind: ReportKind = Field(sa_type=String(16))
    period: str = Field(sa_type=String(16))
    deadline: date
    recipient_id: int | None = Field(default=None, foreign_key="org_unit.id")
    status: State = Field(default=State.drafted, sa_type=String(16))
    late: bool = False
    overdue: bool = False
    version: int = 1
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = Field(default=None, sa_type=String(120))
    submitted_at: datetime | None = None
    origins: list[int] | None = Field(
        default=None, sa_type=JSON, description="ids of the ended units it moved from"
    )
    created_at: datetime = Field(default_factory=utcnow)


class Report(SQLModel, table=True):
    """What was reported: a unit's submission, or a committee's consolidated report."""

    __tablename__ = "report"
    __table_args__ = (
        UniqueConstraint(
            "plan_id", "unit_id", "kind", "period", "consolidated", name="uq_report"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = Field(default=None, foreign_key="report_request.id", index=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    kind: ReportKind = Field(sa_type=String(16))
    period: str = Field(sa_type=String(16))
    consolidated: bool = False
    narrative: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    completeness: dict = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    stale: bool = Field(
        default=False,
        description="compiled report: a submission it counted was returned since; "
        "the next sweep compiles it again",
    )
    stale_since: datetime | None = None


class CompiledSource(SQLModel, table=True):
    """One report a compiled (consolidated) report counted when it was last compiled: a unit's
    submission, with its request and the moment it was submitted, or a child committee's
    compiled report (no request)."""

    __tablename__ = "compiled_source"
    __table_args__ = (
        UniqueConstraint("compiled_id", "source_id", name="uq_compiled_source"),
        Index("ix_compiled_source_source", "source_id"),
        Index("ix_compiled_source_request", "request_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    compiled_id: int = Field(foreign_key="report.id")
    source_id: int = Field(foreign_key="report.id")
    request_id: int | None = Field(default=None, foreign_key="report_request.id")
    submitted_at: datetime | None = None


class Indicator(SQLModel, table=True):
    """An indicator of the catalogue, with its national targets where it has them."""

    __tablename__ = "indicator"

    code: str = Field(primary_key=True, sa_type=String(32))
    name: str = Field(sa_type=Text)
    kind: IndicatorKind = Field(sa_type=String(16))
    unit: str = Field(default="", sa_type=String(40))
    scale: int = Field(default=1, description="100 for a percentage of numerator/denominator")
    bounded: bool = Field(default=True, description="numerator can never exceed denominator")
    maximum: int | None = Field(
        default=None, sa_type=BigInteger, description="the largest figure one unit may report"
    )
    numerator_label: str | None = Field(default=None, sa_type=Text)
    denominator_label: str | None = Field(default=None, sa_type=Text)
    target_op: str | None = Field(default=None, sa_type=String(2), description="ge | le")
    targets: dict[str, float] = Field(default_factory=dict, sa_type=JSON)
    source: str | None = Field(default=None, sa_type=Text)
    position: int = 0


class IndicatorValue(SQLModel, table=True):
    """One indicator's figures in one report; None means 'not reported', never zero."""

    __tablename__ = "indicator_value"
    __table_args__ = (UniqueConstraint("report_id", "indicator_code", name="uq_value"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    indicator_code: str = Field(foreign_key="indicator.code", sa_type=String(32))
    # 64-bit: a compiled report sums thousands of submissions
    male: int | None = Field(default=None, sa_type=BigInteger)
    female: int | None = Field(default=None, sa_type=BigInteger)
    total: int | None = Field(default=None, sa_type=BigInteger)
    numerator: int | None = Field(default=None, sa_type=BigInteger)
    denominator: int | None = Field(default=None, sa_type=BigInteger)
