"""The audit trail: one row per lifecycle transition, written in the same transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlmodel import Field, SQLModel

from planflow.models.time import utcnow


class TransitionLog(SQLModel, table=True):
    __tablename__ = "transition_log"
    __table_args__ = (Index("ix_transition_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(sa_type=String(32), description="plan | report_request")
    entity_id: int
    trigger: str = Field(sa_type=String(32))
    from_state: str = Field(sa_type=String(16))
    to_state: str = Field(sa_type=String(16))
    actor: str = Field(sa_type=String(120))
    reason: str | None = Field(default=None, sa_type=Text)
    approver: str | None = Field(default=None, sa_type=String(120),
                                 description="who approved or refused (approval gate)")
    comment: str | None = Field(default=None, sa_type=Text, description="the approver's comment")
    at: datetime = Field(default_factory=utcnow)
    link_id: int | None = Field(
        default=None, description="the access link of a change made through the units' portal"
    )
