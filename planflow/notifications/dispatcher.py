"""The outbox dispatcher: claim due rows, send them with bounded concurrency, record the outcome.

Claim-before-send: a batch's attempt (``attempts + 1``, ``claimed_until`` lease) is committed
before any send, and each sent mark is committed right after its send. A dispatcher killed in
between leaves the row claimed but unconfirmed; after the lease it is sent once more. So a crash
costs at most one duplicate per unconfirmed row, loses nothing, and never re-sends a sent row.
"""

from __future__ import annotations

import random
import threading
import time as clock_time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine

from planflow.errors import is_connection_error
from planflow.models.base import table_of
from planflow.models.outbox import OutboxMessage, OutboxStatus
from planflow.models.time import as_utc, local_tz, utcnow
from planflow.notifications.channels.base import Channel, Outgoing
from planflow.notifications.errors import PermanentSendError, SendError, get_logger, scrub

log = get_logger(__name__)

# Offices receive nothing at night: sends happen only from 07:00 to 20:00, Asia/Ho_Chi_Minh.
SEND_WINDOW = (time(7, 0), time(20, 0))
ERROR_LIMIT = 500  # characters of last_error kept

OUTBOX = table_of(OutboxMessage)
T = OUTBOX.c
R = TypeVar("R")


@dataclass
class DispatchResult:
    """What one ``dispatch_due`` run did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    buried: int = 0  # claimed earlier, never confirmed, out of attempts: moved to dead
    quiet: bool = False  # stopped (or never started) because the send window is closed
    unrecorded: int = 0  # outcome not written: the database stayed unreachable (lease holds)
    sent_by_channel: Counter[str] = field(default_factory=Counter)


def in_send_window(moment: datetime) -> bool:
    """Whether ``moment`` falls inside 07:00 to 20:00 local time."""
    local = as_utc(moment).astimezone(local_tz()).time()
    return SEND_WINDOW[0] <= local < SEND_WINDOW[1]


def next_send_moment(now: datetime) -> datetime:
    """``now`` when it falls inside the send window, else the window's next opening (07:00
    local, a second past): when the 07:30 daily run would deliver what is queued now."""
    if in_send_window(now):
        return now
    local_now = as_utc(now).astimezone(local_tz())
    day = local_now.date() + timedelta(days=1 if local_now.time() >= SEND_WINDOW[1] else 0)
    opening = datetime.combine(day, SEND_WINDOW[0], tzinfo=local_tz()) + timedelta(seconds=1)
    return as_utc(opening)


def backoff_delay(
    attempts: int, *, base: timedelta, cap: timedelta, rng: Callable[[], float] = random.random
) -> timedelta:
    """Exponential backoff with jitter: between half and all of ``min(cap, base · 2^(n-1))``."""
    ceiling = min(cap, base * (2 ** max(attempts - 1, 0)))
    return ceiling / 2 + (ceiling / 2) * rng()


RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)  # seconds between tries on a lost connection


def _reconnecting(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """``fn`` retried on a new connection when the database connection dropped or the
    database was busy; any other error, or the last one, goes up."""
    for delay in RECONNECT_DELAYS:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if not is_connection_error(exc):
                raise
            log.warning("database connection lost (%s); retrying", type(exc).__name__)
            clock_time.sleep(delay)
    return fn(*args, **kwargs)


def _claim(
    engine: Engine,
    *,
    channels: list[str],
    now: datetime,
    limit: int,
    lease: timedelta,
    max_attempts: int,
) -> list[tuple[Outgoing, int]]:
    """Record one more attempt and a lease on up to ``limit`` due rows; committed on return."""
    free = or_(T.claimed_until.is_(None), T.claimed_until <= now)
    due = (
        T.status == OutboxStatus.pending,
        T.next_attempt_at <= now,
        T.channel.in_(channels),
        T.attempts < max_attempts,
        free,
    )
    pick = select(T.id).where(*due).order_by(T.next_attempt_at, T.id).limit(limit)
    if engine.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)  # concurrent dispatchers share the queue
    stmt = (
        update(OUTBOX)
        .where(T.id.in_(pick.scalar_subquery()), *due)
        .values(attempts=T.attempts + 1, claimed_until=now + lease)
        .returning(
            T.id,
            T.key,
            T.kind,
            T.channel,
            T.address,
            T.subject,
            T.body_text,
            T.body_html,
            T.params,
            T.attempts,
        )
    )
    with engine.begin() as conn:
        rows = conn.execute(stmt).all()
    batch = [
        (
            Outgoing(
                id=r.id,
                key=r.key,
                kind=r.kind,
                channel=r.channel,
                address=r.address,
                subject=r.subject,
                body_text=r.body_text,
                body_html=r.body_html,
                params=dict(r.params or {}),
            ),
            r.attempts,
        )
        for r in rows
    ]
    batch.sort(key=lambda item: item[0].id)
    return batch


def _bury_exhausted(engine: Engine, *, now: datetime, max_attempts: int) -> int:
    """Rows whose last claim expired unconfirmed with no attempt left: dead, for an operator."""
    stmt = (
        update(OUTBOX)
        .where(
            T.status == OutboxStatus.pending,
            T.attempts >= max_attempts,
            or_(T.claimed_until.is_(None), T.claimed_until <= now),
        )
        .values(
            status=OutboxStatus.dead,
            claimed_until=None,
            last_error=f"no confirmed send after {max_attempts} attempts",
        )
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount


def _record(engine: Engine, message_id: int, attempts: int, status: OutboxStatus, **values) -> None:
    """Commit an outcome; a failure is not written over a newer claim of the same row."""
    stmt = (
        update(OUTBOX)
        .where(T.id == message_id)
        .values(status=status, claimed_until=None, **values)
    )
    if status == OutboxStatus.sent:
        stmt = stmt.where(T.status != OutboxStatus.sent)  # we did send: always say so
    else:
        stmt = stmt.where(T.status == OutboxStatus.pending, T.attempts == attempts)
    with engine.begin() as conn:
        conn.execute(stmt)


@dataclass
class _Sender:
    """Sends one claimed row and records its outcome; shared by the worker threads."""

    engine: Engine
    channels: Mapping[str, Channel]
    clock: Callable[[], datetime]
    max_attempts: int
    backoff_base: timedelta
    backoff_cap: timedelta
    stopping: threading.Event = field(default_factory=threading.Event)

    def deliver(self, message: Outgoing, attempts: int) -> str:
        """Send, then commit the sent mark at once; returns what happened to the row."""
        if self.stopping.is_set():
            return "unsent"  # still claimed: the next run sends it once the lease expires
        try:
            provider_id = self.channels[message.channel].send(message)
        except BaseException as exc:
            if not isinstance(exc, Exception):  # SystemExit, KeyboardInterrupt: stop sending
                self.stopping.set()
                raise
            return self.fail(message, attempts, exc)
        sent = {"provider_id": (provider_id or "")[:255], "sent_at": self.clock()}
        _reconnecting(
            _record, self.engine, message.id, attempts, OutboxStatus.sent, last_error=None,
            **sent,
        )
        return "sent"

    def fail(self, message: Outgoing, attempts: int, exc: Exception) -> str:
        """Dead when permanent or out of attempts, else pending again after a backoff."""
        if isinstance(exc, SendError):
            error = scrub(str(exc))
        else:  # a channel bug must not stop the batch; the row is retried
            error = scrub(f"{type(exc).__name__}: {exc}")
        error = error[:ERROR_LIMIT]
        what = f"outbox {message.id} ({message.kind} via {message.channel})"
        if isinstance(exc, PermanentSendError) or attempts >= self.max_attempts:
            log.warning("%s dead after %d attempt(s): %s", what, attempts, error)
            _reconnecting(
                _record, self.engine, message.id, attempts, OutboxStatus.dead, last_error=error
            )
            return "dead"
        delay = backoff_delay(attempts, base=self.backoff_base, cap=self.backoff_cap)
        log.info(
            "%s attempt %d failed, retry in %ds: %s", what, attempts, delay.total_seconds(), error
        )
        _reconnecting(
            _record,
            self.engine,
            message.id,
            attempts,
            OutboxStatus.pending,
            last_error=error,
            next_attempt_at=self.clock() + delay,
        )
        return "retried"


def dispatch_due(
    *,
    engine: Engine,
    channels: Mapping[str, Channel],
    now: datetime | None = None,
    batch_size: int = 100,
    concurrency: int = 4,
    max_attempts: int = 8,
    lease: timedelta = timedelta(minutes=10),
    backoff_base: timedelta = timedelta(minutes=1),
    backoff_cap: timedelta = timedelta(hours=6),
) -> DispatchResult:
    """Send every due outbox row of the given channels, batch by batch, until none is due.

    ``now`` pins the clock (tests, replays); otherwise each batch reads the wall clock. A row
    whose channel is not in ``channels`` stays pending for a dispatcher that has it.
    """
    clock: Callable[[], datetime] = (lambda: as_utc(now)) if now is not None else utcnow
    sender = _Sender(engine, channels, clock, max_attempts, backoff_base, backoff_cap)
    result = DispatchResult()
    result.buried = _reconnecting(_bury_exhausted, engine, now=clock(), max_attempts=max_attempts)
    result.dead += result.buried
    names = sorted(channels)
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="outbox")
    try:
        while names:
            moment = clock()
            if not in_send_window(moment):
                result.quiet = True
                break
            batch = _reconnecting(
                _claim,
                engine,
                channels=names,
                now=moment,
                limit=batch_size,
                lease=lease,
                max_attempts=max_attempts,
            )
            if not batch:
                break
            result.claimed += len(batch)
            futures = [(m, pool.submit(sender.deliver, m, n)) for m, n in batch]
            for message, future in futures:
                try:
                    outcome = future.result()
                except Exception as exc:
                    if not is_connection_error(exc):
                        raise
                    # its outcome could not be written: the lease keeps it from others until
                    # it expires; the rest of the batch and the next batches go on
                    log.error("outbox %s: outcome not recorded, database unreachable (%s)",
                              message.id, type(exc).__name__)
                    result.unrecorded += 1
                    continue
                if outcome == "sent":
                    result.sent += 1
                    result.sent_by_channel[message.channel] += 1
                elif outcome == "dead":
                    result.dead += 1
                elif outcome == "retried":
                    result.retried += 1
    except BaseException:
        # stopping: start no new sends; those already under way finish and are recorded
        sender.stopping.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return result
