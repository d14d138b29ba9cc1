"""The units' portal: access links (a token bound to one unit, stored only as its hash) and the
documents units upload."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from planflow.models.time import utcnow


class AccessLink(SQLModel, table=True):
    """One signed link a unit received; the token itself is never stored, only its SHA-256."""

    __tablename__ = "access_link"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    token_hash: str = Field(sa_type=String(64), unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class UnitDocument(SQLModel, table=True):
    """A file a unit uploaded for one of its requests (its own implementation plan)."""

    __tablename__ = "unit_document"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="report_request.id", index=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    filename: str = Field(sa_type=Text)
    media_type: str = Field(sa_type=String(120))
    size: int
    sha256: str = Field(sa_type=String(64))
    link_id: int | None = Field(default=None, foreign_key="access_link.id")
    created_at: datetime = Field(default_factory=utcnow)


class FailedLinkCount(SQLModel, table=True):
    """Unknown-link attempts from one client address in one clock minute: the portal's
    rate limit, shared by all its worker processes."""

    __tablename__ = "portal_failed_link"

    address: str = Field(sa_type=String(64), primary_key=True)
    minute: int = Field(primary_key=True, index=True, description="minutes since 1970 (UTC)")
    count: int = 0
