"""Enqueuing into the outbox (idempotent, in the caller's transaction) and what operators read."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from planflow.config.db import VALUES_ROWS, batched, conflict_insert, rows_affected
from planflow.models.access import AccessLink
from planflow.models.outbox import MessageKind, OutboxMessage, OutboxStatus
from planflow.models.time import utcnow

KEY_LIMIT = 255  # the column's width


@dataclass(frozen=True)
class Draft:
    """A rendered message for one address, before it is a row."""

    key: str
    kind: MessageKind
    unit_id: int
    channel: str
    address: str
    subject: str
    body_text: str
    body_html: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    # the access link the body carries; stored only when the message is (see ``enqueue``)
    link: AccessLink | None = field(default=None, compare=False, repr=False)


def make_key(*parts: object) -> str:
    """``part:part:…``; past the column's width the tail is replaced by its hash."""
    key = ":".join(str(p) for p in parts)
    if len(key) <= KEY_LIMIT:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{key[: KEY_LIMIT - len(digest) - 1]}#{digest}"


def enqueue(session: Session, drafts: Iterable[Draft], *, now: datetime | None = None) -> set[str]:
    """Insert the drafts whose key is new, in ``session``'s transaction; return the keys added."""
    drafts = list(drafts)
    moment = now or utcnow()
    rows = [
        {
            "key": d.key,
            "kind": str(d.kind),
            "unit_id": d.unit_id,
            "channel": d.channel,
            "address": d.address,
            "subject": d.subject,
            "body_text": d.body_text,
            "body_html": d.body_html,
            "params": dict(d.params),
            "status": str(OutboxStatus.pending),
            "attempts": 0,
            "next_attempt_at": moment,
            "created_at": moment,
        }
        for d in drafts
    ]
    added: set[str] = set()
    for chunk in batched(rows, VALUES_ROWS):
        stmt = (
            conflict_insert(session, OutboxMessage)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(col(OutboxMessage.key))
        )
        added.update(session.execute(stmt).scalars())
    # a message already queued under its key keeps the link it was sent with: the new link
    # minted for the duplicate is never stored (no orphan link rows)
    fresh = {id(d.link): d.link for d in drafts if d.link is not None and d.key in added}
    session.add_all(fresh.values())
    return added


def dead_messages(session: Session, *, limit: int = 200) -> list[OutboxMessage]:
    """Messages that will not be sent without an operator, newest first."""
    stmt = (
        select(OutboxMessage)
        .where(col(OutboxMessage.status) == OutboxStatus.dead)
        .order_by(col(OutboxMessage.id).desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def retry_dead(
    session: Session, *, ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Put dead messages (all, or ``ids``) back to pending with fresh attempts; returns how many."""
    stmt = (
        update(OutboxMessage)
        .where(col(OutboxMessage.status) == OutboxStatus.dead)
        .values(
            status=OutboxStatus.pending,
            attempts=0,
            next_attempt_at=now or utcnow(),
            claimed_until=None,
        )
    )
    if ids is not None:
        stmt = stmt.where(col(OutboxMessage.id).in_(list(ids)))
    return rows_affected(session.execute(stmt, execution_options={"synchronize_session": False}))


def outbox_counts(session: Session) -> dict[str, int]:
    """How many messages there are per ``kind/status``, e.g. ``{"reminder/sent": 12}``."""
    stmt = select(col(OutboxMessage.kind), col(OutboxMessage.status), func.count()).group_by(
        OutboxMessage.kind, OutboxMessage.status
    )
    return {f"{kind}/{status}": n for kind, status, n in session.execute(stmt)}
