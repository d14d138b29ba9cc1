"""Every error planflow reports to a user, in one hierarchy, and the one way to print one.

An error may carry structured problems (``Problem``: the field, the rule it breaks, the value,
and for a filled-in Excel form the cell), so callers and tests read them as data; its message
is the one line a user sees. ``one_line`` turns any exception into that line: a planflow error
as it is, anything else as a bug that points to ``--debug``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One broken rule: ``field`` (``figures.HD-TT-NG.total``), the rule, the value given, and
    the Excel cell it came from (``C14``) when it came from a form."""

    field: str
    rule: str
    value: object = None
    cell: str | None = None
    # for forms that show each problem beside its input (the units' portal): a rule id, the
    # input it belongs to when more precise than ``field``, and the figures it saw
    code: str | None = None
    at: str | None = None
    facts: dict[str, Any] = dataclass_field(default_factory=dict, compare=False)

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


def is_connection_error(exc: BaseException) -> bool:
    """A database error worth retrying on a new connection: the connection dropped (server
    restarted, backend terminated, network cut) or the database was busy."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError)


def database_problem(exc: BaseException) -> str:
    """One Vietnamese line for an officer about a database error: what kind, and the driver's
    first line (never the SQL statement nor its parameters)."""
    from sqlalchemy.exc import DBAPIError, IntegrityError

    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]
    if is_connection_error(exc):
        return f"mất kết nối hoặc cơ sở dữ liệu đang bận, hãy chạy lại lệnh ({first})"
    if isinstance(exc, IntegrityError):
        return f"dữ liệu đã có hoặc trái ràng buộc, không thay đổi gì ({first})"
    return f"lỗi cơ sở dữ liệu, không thay đổi gì ({type(orig).__name__}: {first})"


def one_line(exc: BaseException) -> str:
    """The single line a user sees for ``exc`` (no traceback), in Vietnamese."""
    if isinstance(exc, PlanflowError):
        text = " ".join(str(exc).split())
        return f"lỗi: {text}"
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):  # never the SQL and its parameters
        return f"lỗi: {database_problem(exc)}"
    text = " ".join(str(exc).split())
    detail = f": {text}" if text else ""
    return (
        f"lỗi: sự cố ngoài dự kiến {type(exc).__name__}{detail} (lỗi của planflow: chạy lại "
        "lệnh với --debug để xem chi tiết và báo cho người quản trị)"
    )
