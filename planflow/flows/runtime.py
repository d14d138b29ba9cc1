"""What every flow shares: Prefect's environment defaults, the unit-of-work helper, batching."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

T = TypeVar("T")

PREFECT_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # the first local flow run starts a temporary server: 10-23 s measured on 2 cores
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def prefect_env_defaults(quiet: bool = False) -> None:
    """Set Prefect's environment defaults that planflow relies on, unless already set."""
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """The one transaction a task owns: commit at the end, roll back on any error."""
    from planflow.config.db import session_scope

    with session_scope() as session:
        yield session


def batches(items: Sequence[T], size: int) -> list[list[T]]:
    """Split ``items`` into lists of at most ``size`` (size ≥ 1)."""
    size = max(1, size)
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def retry_on_database_busy(task, task_run, state) -> bool:  # noqa: ARG001 (Prefect's signature)
    """Retry a database task only when the database was busy or the connection dropped."""
    try:
        state.result()
    except OperationalError:
        return True
    except Exception:
        return False
    return False


def call(fn: Callable[..., T], **kwargs) -> T:
    """Run one service function in its own unit of work and return its result."""
    with unit_of_work() as session:
        return fn(session=session, **kwargs)
