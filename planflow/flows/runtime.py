"""What every flow shares: Prefect's environment defaults, the unit-of-work helper, batching."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NONE
from prefect.client.schemas.objects import State, TaskRun
from sqlmodel import Session

from planflow.flows import PREFECT_DEFAULTS as PREFECT_DEFAULTS  # re-exported
from planflow.flows import prefect_env_defaults as prefect_env_defaults

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")

@contextmanager
def unit_of_work() -> Iterator[Session]:
    """The one transaction a task owns: commit at the end, roll back on any error."""
    from planflow.config.db import session_scope

    with session_scope() as session:
        yield session


@contextmanager
def local_mode() -> Iterator[None]:
    """Flow runs without a Prefect server (demo, benchmarks): no flow heartbeats, which a local
    process does not need and which cost a sync flow run ~1 s while it joins their thread."""
    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def by_weight(items: Sequence[tuple[T, int]], limit: int) -> list[list[T]]:
    """Group ``(item, weight)`` in order into batches whose weights add up to about ``limit``."""
    out: list[list[T]] = []
    current: list[T] = []
    total = 0
    for item, weight in items:
        if current and total + weight > limit:
            out.append(current)
            current, total = [], 0
        current.append(item)
        total += weight
    if current:
        out.append(current)
    return out


def retry_on_database_busy(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a database task only when the database was busy or the connection dropped."""
    from planflow.errors import is_connection_error

    try:
        state.result()
    except Exception as exc:
        return is_connection_error(exc)
    return False


def db_task(fn: Callable[P, R]) -> Task[P, R]:
    """A Prefect task that owns one database transaction (``unit_of_work`` inside it).

    No result cache (a re-run must read the database again); three retries (1, 5, 15 s) on a
    new connection, only when the database was busy or the connection dropped. Every database
    task is safe to run again, the read-only ones too.
    """
    return task(
        cache_policy=NONE,
        retries=3,
        retry_delay_seconds=[1, 5, 15],
        retry_condition_fn=retry_on_database_busy,
    )(fn)


def database_tag() -> str:
    """A short, stable name of the configured database for artifact keys and output folders,
    so that two databases never overwrite each other's (``planflow-3fa2c1``)."""
    import hashlib
    import re

    from sqlalchemy.engine import make_url

    from planflow.config.settings import get_settings

    url = make_url(get_settings().resolved_database_url)
    base = (
        Path(url.database or "db").stem
        if url.get_backend_name() == "sqlite"
        else (url.database or "db")
    )
    safe = url.render_as_string(hide_password=True)
    digest = hashlib.sha256(safe.encode()).hexdigest()[:6]
    return f"{re.sub(r'[^a-z0-9]+', '-', base.lower()).strip('-') or 'db'}-{digest}"


def artifact_key(*parts: object) -> str:
    """An artifact key (lowercase letters, digits, dashes) that includes the database."""
    import re

    raw = "-".join(str(p) for p in (*parts, database_tag()))
    return re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")


def run_parameter(name: str, default: object = None) -> object:
    """A parameter of the flow run being named (for ``flow_run_name`` callables)."""
    from prefect.runtime import flow_run

    return (flow_run.parameters or {}).get(name, default)


def plan_label(plan_id: object) -> str:
    """A plan as an officer names it: its number, else ``kế hoạch N`` (for run names)."""
    from sqlalchemy.exc import SQLAlchemyError

    from planflow.models import Plan

    try:
        with unit_of_work() as session:
            plan = session.get(Plan, int(str(plan_id)))
            number = plan.number if plan is not None else None
    except (SQLAlchemyError, ValueError):  # a run name must never fail the run
        number = None
    return number or f"kế hoạch {plan_id}"


DB_LIMIT = "planflow-db"  # Prefect global concurrency limit of database-heavy tasks
DB_LEASE_SECONDS = 60


@contextmanager
def db_slot() -> Iterator[None]:
    """Hold one slot of the ``planflow-db`` global concurrency limit while a database-heavy
    task runs, so that any number of workers never run more than the limit at once. Local mode
    (no server) has one process and no limit."""
    if not os.environ.get("PREFECT_API_URL") or not _db_limit_exists():
        yield
        return
    from prefect.concurrency.sync import concurrency

    # the slot is leased: renewed while the task runs, back in the pool within about a minute
    # when its process was killed (Prefect's shortest lease), not held forever
    with concurrency(DB_LIMIT, occupy=1, strict=False, lease_duration=DB_LEASE_SECONDS):
        yield


@lru_cache(maxsize=1)
def _db_limit_exists() -> bool:
    """Whether the server has the limit (``planflow deploy`` and ``serve`` create it); asked
    once per process, so a server without it costs one call, not a warning per task."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(DB_LIMIT)
        except ObjectNotFound:
            return False
    return True


def where() -> str:
    """Where a flow runs: the server's URL, or local mode."""
    url = os.environ.get("PREFECT_API_URL")
    return f"trên máy chủ Prefect {url}" if url else "ở chế độ cục bộ (không có máy chủ Prefect)"
