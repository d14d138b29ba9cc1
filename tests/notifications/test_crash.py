"""A dispatcher stopped between a send and its sent mark: bounded duplicates, nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from planflow.models import OutboxMessage, OutboxStatus
from planflow.notifications import dispatch_due, enqueue
from planflow.notifications.channels import SmtpChannel, SmtpSettings
from tests.notifications.conftest import FakeChannel, drafts, local

LEASE = timedelta(minutes=10)
ROOT = Path(__file__).resolve().parents[2]


class StopAfterSend:
    """Delegates the send, then raises SystemExit once the n-th send has returned."""

    def __init__(self, inner, n: int):
        self.inner, self.name, self.left = inner, inner.name, n

    def send(self, message):
        provider_id = self.inner.send(message)
        self.left -= 1
        if self.left == 0:
            raise SystemExit("dispatcher stopped between send and mark")
        return provider_id


def _snapshot(engine) -> dict[str, OutboxMessage]:
    with Session(engine) as s:
        return {r.key: r for r in s.exec(select(OutboxMessage))}


def _unconfirmed(rows: dict[str, OutboxMessage]) -> set[str]:
    return {k for k, r in rows.items() if r.status == OutboxStatus.pending and r.claimed_until}


def test_stop_between_send_and_mark_resends_only_that_row_once(engine, world):
    with Session(engine) as s:
        enqueue(s, drafts(10, world.ward.id), now=local(2025, 5, 27, 6))
        s.commit()
    inner = FakeChannel()
    now = local(2025, 5, 27, 9)
    with pytest.raises(SystemExit):
        dispatch_due(
            engine=engine,
            channels={"email": StopAfterSend(inner, 3)},
            now=now,
            batch_size=10,
            concurrency=1,
        )
    crashed = _snapshot(engine)
    sent_before = {k for k, r in crashed.items() if r.status == OutboxStatus.sent}
    unconfirmed = _unconfirmed(crashed)
    # two confirmed; the stopped one (sent, unconfirmed) and the rest of the claimed batch unsent
    assert len(sent_before) == 2 and "test:2:email" in unconfirmed and len(unconfirmed) == 8

    # restarted inside the lease: claimed rows wait, nothing is sent twice yet
    early = dispatch_due(engine=engine, channels={"email": inner}, now=now + timedelta(minutes=1))
    assert early.claimed == 0

    dispatch_due(engine=engine, channels={"email": inner}, now=now + LEASE + timedelta(seconds=1))
    final = _snapshot(engine)
    deliveries = Counter(m.key for m in inner.sent)
    assert all(r.status == OutboxStatus.sent for r in final.values())  # nothing lost
    assert set(deliveries) == set(final)
    assert all(deliveries[k] == 1 for k in sent_before)  # sent rows never re-sent
    duplicates = {k for k, n in deliveries.items() if n > 1}
    assert all(deliveries[k] <= 2 for k in deliveries)
    assert duplicates == {"test:2:email"}


def test_killed_dispatcher_process_resends_at_most_once_per_unconfirmed_row(
    engine, world, smtp_server
):
    controller, inbox = smtp_server
    with Session(engine) as s:
        enqueue(s, drafts(30, world.ward.id), now=local(2025, 5, 27, 6))
        s.commit()
    now = local(2025, 5, 27, 9)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    url = engine.url.render_as_string(hide_password=False)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.notifications.crash_worker",
            url,
            str(controller.port),
            "13",
            now.isoformat(),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 137, proc.stderr
    crashed = _snapshot(engine)
    sent_before = {k for k, r in crashed.items() if r.status == OutboxStatus.sent}
    unconfirmed = _unconfirmed(crashed)
    delivered_before = Counter(m["X-Planflow-Key"] for m in inbox.messages)
    assert len(delivered_before) >= 13 > len(sent_before)  # some sends were never confirmed
    assert unconfirmed

    smtp = SmtpChannel(
        SmtpSettings(host="127.0.0.1", port=controller.port, sender="planflow@hadong.example.vn")
    )
    result = dispatch_due(
        engine=engine, channels={"email": smtp}, now=now + LEASE + timedelta(seconds=1)
    )
    final = _snapshot(engine)
    deliveries = Counter(m["X-Planflow-Key"] for m in inbox.messages)
    assert result.dead == 0 and all(r.status == OutboxStatus.sent for r in final.values())
    assert set(deliveries) == set(final)  # nothing lost
    assert all(deliveries[k] == 1 for k in sent_before)  # confirmed rows never re-sent
    duplicates = {k for k, n in deliveries.items() if n > 1}
    assert all(n <= 2 for n in deliveries.values())
    assert duplicates <= unconfirmed  # ≤ 1 duplicate per unconfirmed row
    # a duplicate carries the same Message-ID, so the receiving side can recognise it
    ids = Counter(m["Message-ID"] for m in inbox.messages)
    assert len(ids) == len(final) and sum(ids.values()) == len(final) + len(duplicates)
