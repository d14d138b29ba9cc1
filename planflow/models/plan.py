"""Plans (Kế hoạch), their sections, assignments and reporting regime."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from planflow.models.enums import PlanKind, ReportKind, Role, State
from planflow.models.time import utcnow


class PlanBase(SQLModel):
    number: str | None = Field(default=None, sa_type=String(64), description="e.g. 37/KH-UBND")
    kind: PlanKind = Field(default=PlanKind.plan, sa_type=String(16))
    year: int
    title: str = Field(sa_type=Text)
    place: str | None = Field(default=None, sa_type=String(120))
    issued_on: date | None = None
    signer_name: str | None = Field(default=None, sa_type=String(120))
    signer_title: str | None = Field(default=None, sa_type=String(120))
    signature_block: str | None = Field(default=None, sa_type=Text)
    preamble: str | None = Field(default=None, sa_type=Text)
    closing: str | None = Field(default=None, sa_type=Text)


class Plan(PlanBase, table=True):
    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("parent_id", "issuer_id", name="uq_plan_parent_issuer"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="org_unit.id", index=True)
    standing_agency_id: int | None = Field(default=None, foreign_key="org_unit.id")
    parent_id: int | None = Field(default=None, foreign_key="plan.id", index=True)
    root_id: int | None = Field(default=None, foreign_key="plan.id", index=True)
    depth: int = 0
    status: State = Field(default=State.drafted, sa_type=String(16), index=True)
    version: int = 1
    recipients: list[str] = Field(default_factory=list, sa_type=JSON)
    # the plan's own parts as written, for an imported plan: [{"number": "I", "title":
    # "MỤC TIÊU", "role": "purpose", "text": "<the lines under the heading>"}, …] ("text" since
    # the render prints a part as written); [] for a text without parts; None for a plan the
    # cascade drafted
    parts: list[dict[str, str]] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def tree_id(self) -> int | None:
        """The id of the root plan of this plan's cascade."""
        return self.root_id or self.id


class PlanSection(SQLModel, table=True):
    """A numbered part of a plan: purpose, content (Nội dung thực hiện) or funding."""

    __tablename__ = "plan_section"
    __table_args__ = (UniqueConstraint("plan_id", "part", "position", name="uq_section_pos"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    part: str = Field(sa_type=String(24), description="purpose | content")
    position: int
    number: str | None = Field(default=None, sa_type=String(12))
    title: str = Field(sa_type=Text)
    body: str | None = Field(default=None, sa_type=Text)
    items: list[str] = Field(default_factory=list, sa_type=JSON)


class Assignment(SQLModel, table=True):
    """What one unit must do (or is requested to do) under a plan: Tổ chức thực hiện."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("plan_id", "unit_id", name="uq_assignment_plan_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    role: Role = Field(default=Role.lead, sa_type=String(16))
    requested: bool = Field(default=False, description="True: 'đề nghị' (not subordinate)")
    position: int = 0
    group_label: str | None = Field(default=None, sa_type=String(255))
    duties: str = Field(default="", sa_type=Text)


class PlanDeadline(SQLModel, table=True):
    """One line of a plan's reporting regime (Chế độ báo cáo)."""

    __tablename__ = "plan_deadline"
    __table_args__ = (UniqueConstraint("plan_id", "kind", "period", name="uq_deadline"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    kind: ReportKind = Field(sa_type=String(16))
    period: str = Field(sa_type=String(16))
    due_on: date
    recipient_id: int | None = Field(default=None, foreign_key="org_unit.id")
    upward_due_on: date | None = Field(
        default=None, description="when the issuer's own compiled report goes up (sub-plans)"
    )
