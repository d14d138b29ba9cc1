"""The dispatcher: send window, backoff, dead letters, bounded concurrency, scrubbed errors."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from planflow.models import OutboxMessage, OutboxStatus
from planflow.notifications import (
    PermanentSendError,
    TransientSendError,
    dead_messages,
    dispatch_due,
    enqueue,
    retry_dead,
)
from planflow.notifications.dispatcher import backoff_delay, in_send_window, next_send_moment
from planflow.notifications.errors import register_secret
from tests.notifications.conftest import SECRET, FakeChannel, drafts, local


def _rows(engine) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def _queue(engine, world, n: int, **kw) -> None:
    with Session(engine) as s:
        enqueue(s, drafts(n, world.ward.id, **kw), now=local(2025, 5, 27, 6, 0))
        s.commit()


@pytest.mark.parametrize(
    ("hh", "mm", "sends"),
    [
        (6, 59, False),
        (7, 0, True),
        (12, 0, True),
        (19, 59, True),
        (20, 0, False),
        (23, 30, False),
        (2, 0, False),
    ],
)
def test_nothing_is_sent_outside_07_to_20_local_time(engine, world, hh, mm, sends):
    _queue(engine, world, 2)
    channel = FakeChannel()
    result = dispatch_due(
        engine=engine, channels={"email": channel}, now=local(2025, 5, 27, hh, mm)
    )
    assert result.quiet is not sends
    assert len(channel.sent) == (2 if sends else 0)
    statuses = {r.status for r in _rows(engine)}
    assert statuses == ({OutboxStatus.sent} if sends else {OutboxStatus.pending})
    assert all(r.attempts == (1 if sends else 0) for r in _rows(engine))


def test_all_due_rows_are_sent_in_batches_with_bounded_concurrency(engine, world):
    _queue(engine, world, 23)
    channel = FakeChannel(delay=0.02)
    result = dispatch_due(
        engine=engine,
        channels={"email": channel},
        now=local(2025, 5, 27),
        batch_size=5,
        concurrency=3,
    )
    assert (result.claimed, result.sent, result.retried, result.dead) == (23, 23, 0, 0)
    assert 1 < channel.max_in_flight <= 3
    rows = _rows(engine)
    assert all(r.status == OutboxStatus.sent and r.provider_id == f"fake-{r.id}" for r in rows)
    assert all(r.sent_at is not None and r.claimed_until is None for r in rows)
    again = dispatch_due(engine=engine, channels={"email": channel}, now=local(2025, 5, 27, 11))
    assert again.claimed == 0 and len(channel.sent) == 23


def test_transient_failures_back_off_with_jitter_then_go_dead(engine, world):
    _queue(engine, world, 1)
    channel = FakeChannel()
    channel.fail["a0@hadong.example.vn"] = TransientSendError("SMTP 451 try later")
    now = local(2025, 5, 27, 8)
    base = timedelta(minutes=1)
    for attempt in range(1, 4):
        result = dispatch_due(
            engine=engine, channels={"email": channel}, now=now, max_attempts=4, backoff_base=base
        )
        assert result.retried == 1
        (row,) = _rows(engine)
        ceiling = base * 2 ** (attempt - 1)
        assert row.attempts == attempt and row.status == OutboxStatus.pending
        assert now + ceiling / 2 <= row.next_attempt_at <= now + ceiling
        assert row.last_error == "SMTP 451 try later"
        # not due again before its time
        assert dispatch_due(engine=engine, channels={"email": channel}, now=now).claimed == 0
        now = row.next_attempt_at
    result = dispatch_due(engine=engine, channels={"email": channel}, now=now, max_attempts=4)
    assert result.dead == 1
    with Session(engine) as s:
        (dead,) = dead_messages(s)
        assert dead.attempts == 4 and dead.status == OutboxStatus.dead
        assert retry_dead(s, now=now) == 1
        s.commit()
    channel.fail.clear()
    assert dispatch_due(engine=engine, channels={"email": channel}, now=now).sent == 1


def test_backoff_grows_exponentially_and_is_capped():
    base, cap = timedelta(minutes=1), timedelta(hours=1)
    assert backoff_delay(1, base=base, cap=cap, rng=lambda: 1.0) == base
    assert backoff_delay(1, base=base, cap=cap, rng=lambda: 0.0) == base / 2
    assert backoff_delay(4, base=base, cap=cap, rng=lambda: 1.0) == base * 8
    assert backoff_delay(30, base=base, cap=cap, rng=lambda: 1.0) == cap


def test_permanent_failure_is_dead_at_once_and_listed_for_an_operator(engine, world):
    _queue(engine, world, 3)
    channel = FakeChannel()
    channel.fail["a1@hadong.example.vn"] = PermanentSendError("recipient refused (SMTP 550)")
    result = dispatch_due(engine=engine, channels={"email": channel}, now=local(2025, 5, 27))
    assert (result.sent, result.dead) == (2, 1)
    with Session(engine) as s:
        (dead,) = dead_messages(s)
    assert dead.address == "a1@hadong.example.vn" and dead.attempts == 1
    assert dead.last_error == "recipient refused (SMTP 550)"


def test_rows_of_a_channel_the_dispatcher_lacks_stay_pending(engine, world):
    _queue(engine, world, 2, channel="zalo")
    _queue(engine, world, 1, channel="email")
    result = dispatch_due(engine=engine, channels={"email": FakeChannel()}, now=local(2025, 5, 27))
    assert result.sent == 1
    assert sorted((r.channel, r.status, r.attempts) for r in _rows(engine)) == [
        ("email", "sent", 1),
        ("zalo", "pending", 0),
        ("zalo", "pending", 0),
    ]


def test_a_channel_bug_is_retried_and_its_text_scrubbed(engine, world, caplog):
    register_secret(SECRET)
    _queue(engine, world, 1)
    channel = FakeChannel()
    channel.fail["a0@hadong.example.vn"] = RuntimeError(f"boom with password={SECRET}")
    caplog.set_level(logging.DEBUG, logger="planflow")
    result = dispatch_due(engine=engine, channels={"email": channel}, now=local(2025, 5, 27))
    assert result.retried == 1
    (row,) = _rows(engine)
    assert row.last_error == "RuntimeError: boom with password=***"
    assert SECRET not in caplog.text and "password=***" in caplog.text


def test_two_dispatchers_at_once_never_send_a_row_twice(engine, world):
    import threading

    _queue(engine, world, 40)
    channel = FakeChannel(delay=0.005)
    runs = [
        threading.Thread(
            target=dispatch_due,
            kwargs={
                "engine": engine,
                "channels": {"email": channel},
                "now": local(2025, 5, 27),
                "batch_size": 4,
                "concurrency": 2,
            },
        )
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    keys = [m.key for m in channel.sent]
    assert len(keys) == len(set(keys)) == 40
    assert all(r.status == OutboxStatus.sent and r.attempts == 1 for r in _rows(engine))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ((2025, 5, 20, 10, 15), (2025, 5, 20, 10, 15)),  # inside the window: now
        ((2025, 5, 20, 5, 30), (2025, 5, 20, 7, 0)),  # before it: this morning's opening
        ((2025, 5, 20, 20, 0), (2025, 5, 21, 7, 0)),  # at or after 20:00: tomorrow's
        ((2025, 12, 31, 23, 59), (2026, 1, 1, 7, 0)),
    ],
)
def test_next_send_moment_is_now_inside_the_window_or_its_next_opening(at, expected):
    moment = next_send_moment(local(*at))
    assert in_send_window(moment)
    assert moment.replace(second=0) == local(*expected)
