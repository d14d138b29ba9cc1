"""Every error planflow reports to a user, in one hierarchy; each message names what and where."""

from __future__ import annotations


class PlanflowError(Exception):
    """Base of every error planflow reports to a user as one line."""


class IllegalTransition(PlanflowError):
    """A trigger that the object's current state does not allow."""


class GuardFailed(PlanflowError):
    """A trigger allowed from this state, refused by one of its guards."""


class ConcurrentTransition(PlanflowError):
    """Another session moved the same row first."""


class NotFound(PlanflowError):
    """An id or code that names nothing."""


class ValidationFailed(PlanflowError):
    """Input that breaks a rule; the message names the field and the rule."""
