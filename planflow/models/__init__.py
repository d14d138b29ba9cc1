"""SQLModel tables, one aggregate per module; no business rules here."""

from planflow.models.access import AccessLink, FailedLinkCount, UnitDocument
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
from planflow.models.org import OrgUnit, UnitSuccessor
from planflow.models.outbox import (
    MessageKind,
    OutboxMessage,
    OutboxStatus,
    ReminderMark,
    ZaloToken,
)
from planflow.models.plan import Assignment, Plan, PlanDeadline, PlanSection
from planflow.models.report import (
    CompiledSource,
    Indicator,
    IndicatorValue,
    Report,
    ReportRequest,
)

__all__ = [
    "AccessLink",
    "Assignment",
    "CompiledSource",
    "FailedLinkCount",
    "Indicator",
    "IndicatorKind",
    "IndicatorValue",
    "Level",
    "MessageKind",
    "OrgUnit",
    "OutboxMessage",
    "OutboxStatus",
    "Plan",
    "PlanDeadline",
    "PlanKind",
    "PlanSection",
    "ReminderMark",
    "Report",
    "ReportKind",
    "ReportRequest",
    "Role",
    "State",
    "TransitionLog",
    "UnitDocument",
    "UnitKind",
    "UnitSuccessor",
    "ZaloToken",
    "period_for",
]
