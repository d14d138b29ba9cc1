"""The lifecycles: transition tables, machines built once, and ``fire`` that binds them to rows."""

from planflow.states.errors import (
    ConcurrentTransition,
    GuardFailed,
    IllegalTransition,
    NotFound,
    PlanflowError,
    ValidationFailed,
)
from planflow.states.machine import (
    allowed_triggers,
    describe,
    fire,
    fire_many,
    issuable_problems,
    not_issuable_message,
)
from planflow.states.tables import (
    CANCELLABLE,
    LIVE,
    MOVES,
    OPEN,
    PLAN_MOVES,
    REPORT_MOVES,
    SENT,
    VISIBLE,
    Move,
)

__all__ = [
    "CANCELLABLE",
    "LIVE",
    "MOVES",
    "OPEN",
    "PLAN_MOVES",
    "REPORT_MOVES",
    "SENT",
    "VISIBLE",
    "ConcurrentTransition",
    "GuardFailed",
    "IllegalTransition",
    "Move",
    "NotFound",
    "PlanflowError",
    "ValidationFailed",
    "allowed_triggers",
    "describe",
    "fire",
    "fire_many",
    "issuable_problems",
    "not_issuable_message",
]
