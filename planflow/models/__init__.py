"""SQLModel tables, one aggregate per module; no business rules here."""

from planflow.models.audit import TransitionLog
from planflow.models.enums import (
    IndicatorKind,
    Level,
    PlanKind,
    ReportKind,
    Role,
    State,
    UnitKind,
    period_for,
)
from planflow.models.org import OrgUnit
from planflow.models.plan import Assignment, Plan, PlanDeadline, PlanSection
from planflow.models.report import Indicator, IndicatorValue, Report, ReportRequest

__all__ = [
    "Assignment",
    "Indicator",
    "IndicatorKind",
    "IndicatorValue",
    "Level",
    "OrgUnit",
    "Plan",
    "PlanDeadline",
    "PlanKind",
    "PlanSection",
    "Report",
    "ReportKind",
    "ReportRequest",
    "Role",
    "State",
    "TransitionLog",
    "UnitKind",
    "period_for",
]
