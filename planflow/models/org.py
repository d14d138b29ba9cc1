"""Organisational units: committees, agencies and mass organisations as one tree."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from planflow.models.enums import Level, UnitKind
from planflow.models.time import utcnow


class OrgUnitBase(SQLModel):
    tiers: int = Field(description="3: the pre-2025 three-tier list; 2: today's two-tier list")
    code: str = Field(sa_type=String(64), description="planflow key, unique within a tier scheme")
    name: str = Field(sa_type=String(255))
    short_name: str | None = Field(default=None, sa_type=String(120))
    level: Level = Field(sa_type=String(16))
    kind: UnitKind = Field(sa_type=String(16))
    division_type: str | None = Field(default=None, sa_type=String(40))
    gso_code: str | None = Field(default=None, sa_type=String(8), index=True)
    role_key: str | None = Field(default=None, sa_type=String(40))
    subordinate: bool = True
    depth: int = 0
    path: str = Field(default="", sa_type=String(255), description="/-joined codes from the root")
    active: bool = True
    valid_from: date | None = Field(default=None, description="first day the unit exists")
    valid_to: date | None = Field(default=None, description="last day the unit exists")

    def valid_on(self, day: date) -> bool:
        """Whether the unit exists on ``day`` (both ends inclusive; None: open-ended)."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class OrgUnit(OrgUnitBase, table=True):
    __tablename__ = "org_unit"
    __table_args__ = (
        UniqueConstraint("tiers", "code", name="uq_org_unit_tiers_code"),
        Index("ix_org_unit_path", "path"),
    )

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    emails: list[str] = Field(default_factory=list, sa_type=JSON)
    zalo_user_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    phones: list[str] = Field(default_factory=list, sa_type=JSON)
    aliases: list[str] = Field(default_factory=list, sa_type=JSON, description="other spellings")
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def label(self) -> str:
        """How documents name the unit: the committee of an area, or the body itself."""
        if self.kind == UnitKind.committee:
            return f"UBND {self.name}"
        return self.name


class UnitSuccessor(SQLModel, table=True):
    """One edge of the map's history: from ``effective_on`` the work of ``predecessor`` passes
    to ``successor``, whole or in part; a unit split in several has one default successor."""

    __tablename__ = "unit_successor"
    __table_args__ = (
        UniqueConstraint("predecessor_id", "successor_id", "matter", name="uq_unit_successor"),
    )

    id: int | None = Field(default=None, primary_key=True)
    predecessor_id: int = Field(foreign_key="org_unit.id", index=True)
    successor_id: int = Field(foreign_key="org_unit.id", index=True)
    effective_on: date
    whole: bool = Field(default=True, description="False: only part of the unit went there")
    default: bool = Field(default=True, description="where open work goes when split")
    matter: str = Field(default="all", sa_type=String(40), description="all | gender_equality")
    source: str = Field(sa_type=String(400), description="the document or data set it rests on")
