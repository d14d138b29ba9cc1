"""Issuing a plan: its guards, then its report requests created and issued with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert
from sqlmodel import Session, select

from planflow.models import (
    Assignment,
    Plan,
    PlanDeadline,
    PlanSection,
    ReportRequest,
    State,
    TransitionLog,
)
from planflow.models.time import utcnow
from planflow.services import notify
from planflow.services.succession import units_on
from planflow.states import (
    GuardFailed,
    IllegalTransition,
    NotFound,
    ValidationFailed,
    fire,
    fire_many,
    issuable_problems,
    not_issuable_message,
)
from planflow.states.machine import STATE_VI


@dataclass(frozen=True)
class IssueResult:
    plan_id: int
    requests_created: int
    requests_issued: int


def get_plan(session: Session, plan_id: int, *, lock: bool = False) -> Plan:
    """The plan with this id, or NotFound."""
    plan = session.get(Plan, plan_id, with_for_update=lock)
    if plan is None:
        raise NotFound(f"plan {plan_id} does not exist")
    return plan


def ensure_requests(session: Session, plan_ids: list[int]) -> int:
    """Create the missing requests of these plans: assigned unit × reporting-regime line.

    A unit never owes a report to itself, so the recipient (the standing agency) and the
    issuer get none. Existing requests are left as they are; returns how many were created.
    """
    if not plan_ids:
        return 0
    plans: dict[int, tuple[int | None, int]] = {}
    deadlines: dict[int, list] = {}
    for start in range(0, len(plan_ids), 500):
        chunk = plan_ids[start : start + 500]
        for pid, agency, issuer in session.execute(
            select(Plan.id, Plan.standing_agency_id, Plan.issuer_id).where(Plan.id.in_(chunk))
        ).all():
            plans[pid] = (agency, issuer)
        for line in session.execute(
            select(
                PlanDeadline.plan_id,
                PlanDeadline.kind,
                PlanDeadline.period,
                PlanDeadline.due_on,
                PlanDeadline.recipient_id,
            ).where(PlanDeadline.plan_id.in_(chunk))
        ).all():
            deadlines.setdefault(line.plan_id, []).append(line)
    existing: set[tuple] = set()
    assignments: list[tuple[int, int]] = []
    for start in range(0, len(plan_ids), 500):
        chunk = plan_ids[start : start + 500]
        existing.update(
            tuple(row)
            for row in session.execute(
                select(
                    ReportRequest.plan_id,
                    ReportRequest.unit_id,
                    ReportRequest.kind,
                    ReportRequest.period,
                ).where(ReportRequest.plan_id.in_(chunk))
            ).all()
        )
        assignments.extend(
            session.execute(
                select(Assignment.plan_id, Assignment.unit_id)
                .where(Assignment.plan_id.in_(chunk))
                .order_by(Assignment.plan_id, Assignment.position)
            ).all()
        )
    # the bodies valid on each deadline: from 1/3/2025 Phòng Nội vụ receives (and no longer
    # owes) what was Phòng LĐTBXH's (DESIGN.md §11)
    on_day: dict[date, dict[int, int]] = {}
    for due in {line.due_on for lines in deadlines.values() for line in lines}:
        ids = {u for _, u in assignments} | {a for a, _ in plans.values() if a}
        ids |= {line.recipient_id for lines in deadlines.values() for line in lines}
        on_day[due] = units_on(session, [i for i in ids if i], due)
    rows = []
    for plan_id, assigned in assignments:
        agency, issuer = plans[plan_id]
        for line in deadlines.get(plan_id, []):
            valid = on_day[line.due_on]
            recipient = line.recipient_id or agency
            recipient = valid.get(recipient, recipient) if recipient else None
            unit_id = valid.get(assigned, assigned)
            if unit_id in (recipient, issuer):
                continue
            key = (plan_id, unit_id, line.kind, line.period)
            if key in existing:
                continue
            existing.add(key)
            rows.append(
                {
                    "plan_id": plan_id,
                    "unit_id": unit_id,
                    "kind": line.kind,
                    "period": line.period,
                    "deadline": line.due_on,
                    "recipient_id": recipient,
                    "status": State.drafted,
                    "late": False,
                    "overdue": False,
                    "version": 1,
                }
            )
    for start in range(0, len(rows), 2000):
        session.execute(insert(ReportRequest.__table__), rows[start : start + 2000])
    return len(rows)


def set_details(
    session: Session,
    plan_id: int,
    *,
    number: str | None = None,
    issued_on: date | None = None,
    signer_name: str | None = None,
    signer_title: str | None = None,
) -> Plan:
    """Enter what a drafted plan needs before it is issued; only the given fields change."""
    plan = get_plan(session, plan_id, lock=True)
    if plan.status != State.drafted:
        raise IllegalTransition(
            f"Kế hoạch {plan_id} ({plan.number}) {STATE_VI[State(plan.status)]}: không sửa được "
            "số, ngày, người ký"
        )
    for field, value, limit in (
        ("number", number, 64), ("signer_name", signer_name, 120),
        ("signer_title", signer_title, 120),
    ):
        if value is None:
            continue
        value = " ".join(value.split())
        if not value or len(value) > limit:
            raise ValidationFailed(f"Kế hoạch {plan_id}: {FIELD_VI[field]} phải có từ 1 đến "
                                   f"{limit} ký tự")
        setattr(plan, field, value)
    if issued_on is not None:
        plan.issued_on = issued_on
    session.add(plan)
    session.flush()
    return plan


FIELD_VI = {"number": "số, ký hiệu văn bản", "signer_name": "người ký",
            "signer_title": "chức vụ người ký"}


def check_issuable(session: Session, plan_id: int) -> Plan:
    """The plan, if it could be issued now; else GuardFailed naming in Vietnamese what is
    missing (checked before anyone is asked to approve it)."""
    plan = get_plan(session, plan_id)
    if plan.status != State.drafted:
        raise IllegalTransition(f"Kế hoạch {plan_id} ({plan.number}) "
                                f"{STATE_VI[State(plan.status)]}, không ban hành lại")
    problems = issuable_problems(session, plan)
    if problems:
        raise GuardFailed(not_issuable_message(plan, problems))
    return plan


def record_refusal(
    session: Session, plan_id: int, *, actor: str, approver: str, comment: str
) -> None:
    """An approver refused to let the plan be issued: it stays drafted; the audit trail says
    who refused and why."""
    plan = get_plan(session, plan_id, lock=True)
    session.add(TransitionLog(
        entity="plan", entity_id=plan_id, trigger="refuse", from_state=plan.status,
        to_state=plan.status, actor=actor, reason=comment, approver=approver, comment=comment,
        at=utcnow(),
    ))
    session.flush()


def issue_plan(
    *, session: Session, plan_id: int, actor: str, at: datetime | None = None,
    approver: str | None = None, comment: str | None = None,
) -> IssueResult:
    """Issue a drafted plan (guards: number, date, signer, an assignment, parent issued).

    Its report requests are created if missing and issued with it, and every assigned unit is
    notified, all in the caller's transaction.
    """
    plan = get_plan(session, plan_id, lock=True)
    fire(session, plan, "issue", actor=actor, at=at, approver=approver, comment=comment)
    created = ensure_requests(session, [plan_id])
    drafted = session.exec(
        select(ReportRequest.id).where(
            ReportRequest.plan_id == plan_id, ReportRequest.status == State.drafted
        )
    ).all()
    issued = fire_many(session, ReportRequest, list(drafted), "issue", actor=actor, at=at)
    notify.plan_issued(session, plan_id=plan_id)
    session.flush()
    return IssueResult(plan_id=plan_id, requests_created=created, requests_issued=len(issued))


def sections_of(session: Session, plan: Plan) -> list[PlanSection]:
    """A plan's sections: its own, or (for a cascaded sub-plan that has written none) those of
    its nearest ancestor that has them."""
    current: Plan | None = plan
    while current is not None:
        rows = session.exec(
            select(PlanSection)
            .where(PlanSection.plan_id == current.id)
            .order_by(PlanSection.part, PlanSection.position)
        ).all()
        if rows:
            return list(rows)
        current = session.get(Plan, current.parent_id) if current.parent_id else None
    return []
