"""Organisational units: committees, agencies and mass organisations as one tree."""

from __future__ import annotations

from datetime import datetime

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
