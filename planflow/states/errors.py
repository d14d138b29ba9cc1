"""The lifecycle errors; they live in ``planflow.errors`` with every other planflow error."""

from planflow.errors import (
    ConcurrentTransition,
    GuardFailed,
    IllegalTransition,
    NotFound,
    PlanflowError,
    ValidationFailed,
)

__all__ = [
    "ConcurrentTransition",
    "GuardFailed",
    "IllegalTransition",
    "NotFound",
    "PlanflowError",
    "ValidationFailed",
]
