"""The outbox: every notification is a row before it is a message; plus Zalo's rotating tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, DateTime, Index, String, Text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from planflow.models.time import as_utc, utcnow


class UTCDateTime(TypeDecorator):
    """Aware UTC on every backend (SQLite stores naive UTC text, PostgreSQL timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return None if value is None else as_utc(value)


class OutboxStatus(StrEnum):
    pending = "pending"  # waiting for its next attempt (or claimed by a dispatcher right now)
    sent = "sent"  # the provider accepted it
    dead = "dead"  # permanent failure, or out of attempts: an operator looks at it


class MessageKind(StrEnum):
    """Which template a message was rendered from."""

    plan_issued = "plan_issued"
    report_requested = "report_requested"
    reminder = "reminder"
    overdue = "overdue"
    escalation = "escalation"
    returned = "returned"
    digest = "digest"
    plan_cancelled = "plan_cancelled"


class OutboxMessage(SQLModel, table=True):
    """One message to one address over one channel; ``key`` makes enqueuing idempotent."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_kind_status", "kind", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_type=String(255), unique=True, description="what the message is about")
    kind: MessageKind = Field(sa_type=String(24))
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    channel: str = Field(sa_type=String(16))
    address: str = Field(sa_type=String(255))
    subject: str = Field(sa_type=Text)
    body_text: str = Field(sa_type=Text)
    body_html: str | None = Field(default=None, sa_type=Text)
    params: dict[str, str] = Field(default_factory=dict, sa_type=JSON, description="ZNS data")
    status: OutboxStatus = Field(default=OutboxStatus.pending, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    provider_id: str | None = Field(default=None, sa_type=String(255))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReminderMark(SQLModel, table=True):
    """One reminder stage of one report request, recorded once it has been notified."""

    __tablename__ = "reminder_mark"

    key: str = Field(primary_key=True, sa_type=String(160), description="r12:d3, r12:escalate")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ZaloToken(SQLModel, table=True):
    """The Official Account's current token pair; the refresh token is single-use."""

    __tablename__ = "zalo_token"

    app_id: str = Field(primary_key=True, sa_type=String(64))
    access_token: str = Field(sa_type=Text, repr=False)
    refresh_token: str = Field(sa_type=Text, repr=False)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rotations: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
