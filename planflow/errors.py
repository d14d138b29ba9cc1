"""Every error planflow reports to a user, in one hierarchy, and the one way to print one.

An error may carry structured problems (``Problem``: the field, the rule it breaks, the value,
and for a filled-in Excel form the cell), so callers and tests read them as data; its message
is the one line a user sees. ``one_line`` turns any exception into that line: a planflow error
as it is, anything else as a bug that points to ``--debug``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule: ``field`` (``figures.HD-TT-NG.total``), the rule, the value given, and
    the Excel cell it came from (``C14``) when it came from a form."""

    field: str
    rule: str
    value: object = None
    cell: str | None = None

    def __str__(self) -> str:
        where = f"{self.field} (ô {self.cell})" if self.cell else self.field
        return f"{where}: {self.rule}"


class PlanflowError(Exception):
    """Base of every error planflow reports to a user as one line."""

    def __init__(self, message: str = "", problems: Iterable[Problem] = ()) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not message and self.problems:
            message = "; ".join(str(p) for p in self.problems)
        super().__init__(message)


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


def one_line(exc: BaseException) -> str:
    """The single line a user sees for ``exc`` (no traceback)."""
    if isinstance(exc, PlanflowError):
        text = " ".join(str(exc).split())
        return f"error: {text}"
    text = " ".join(str(exc).split())
    detail = f": {text}" if text else ""
    return (
        f"error: unexpected {type(exc).__name__}{detail} "
        "(a bug in planflow: run the command again with --debug for the traceback)"
    )
