"""Issuing a plan: its guards, then its report requests created and issued with it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from planflow.config.db import batched, insert_many
from planflow.models import (
    Assignment,
    OrgUnit,
    Plan,
    PlanDeadline,
    PlanSection,
    Report,
    ReportKind,
    ReportRequest,
    State,
    TransitionLog,
)
from planflow.models.base import stored_ids, table_of
from planflow.models.time import as_utc, utcnow
from planflow.services import notify
from planflow.services.reporting import submission_values
from planflow.services.succession import units_on_days
from planflow.states import (
    OPEN,
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
from planflow.vntext import vn_date


@dataclass(frozen=True)
class IssueResult:
    plan_id: int
    requests_created: int
    requests_issued: int


def get_plan(session: Session, plan_id: int, *, lock: bool = False) -> Plan:
    """The plan with this id, or NotFound."""
    plan = session.get(Plan, plan_id, with_for_update=lock)
    if plan is None:
        raise NotFound(f"không có kế hoạch {plan_id} (xem: planflow status)")
    return plan


def ensure_requests(session: Session, plan_ids: list[int]) -> int:
    """Create the missing requests of these plans: assigned unit × reporting-regime line.

    A unit never owes a report to itself, so the recipient (the standing agency) and the
    issuer get none. Existing requests are left as they are; returns how many were created.
    """
    if not plan_ids:
        return 0
    plans: dict[int, tuple[int | None, int]] = {}
    lines: list[Any] = []
    existing: set[tuple] = set()
    assignments: list[tuple[int, int]] = []
    for chunk in batched(plan_ids):
        for pid, agency, issuer in session.execute(
            select(col(Plan.id), col(Plan.standing_agency_id), col(Plan.issuer_id)).where(
                col(Plan.id).in_(chunk)
            )
        ).all():
            plans[pid] = (agency, issuer)
        lines.extend(
            session.execute(
                sa_select(
                    col(PlanDeadline.plan_id),
                    col(PlanDeadline.kind),
                    col(PlanDeadline.period),
                    col(PlanDeadline.due_on),
                    col(PlanDeadline.recipient_id),
                ).where(col(PlanDeadline.plan_id).in_(chunk))
            ).mappings()
        )
        existing.update(
            tuple(row)
            for row in session.execute(
                select(
                    ReportRequest.plan_id,
                    ReportRequest.unit_id,
                    ReportRequest.kind,
                    ReportRequest.period,
                ).where(col(ReportRequest.plan_id).in_(chunk))
            ).all()
        )
        assignments.extend(
            (plan_id, unit_id)
            for plan_id, unit_id in session.execute(
                select(col(Assignment.plan_id), col(Assignment.unit_id))
                .where(col(Assignment.plan_id).in_(chunk))
                .order_by(col(Assignment.plan_id), col(Assignment.position))
            ).all()
        )
    return insert_requests(
        session, plans=plans, assignments=assignments, lines=lines, existing=existing
    )


def insert_requests(
    session: Session,
    *,
    plans: Mapping[int, tuple[int | None, int]],
    assignments: Iterable[tuple[int, int]],
    lines: Iterable[Mapping[str, Any]],
    existing: set[tuple] | None = None,
) -> int:
    """Insert the requests of these plans ({plan: (standing agency, issuer)}) from their
    assignments ((plan, unit), in position order) and deadline lines (plan_id, kind, period,
    due_on, recipient_id), leaving out the ``existing`` (plan, unit, kind, period); returns
    how many were inserted."""
    deadlines: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for line in lines:
        deadlines[line["plan_id"]].append(line)
    assignments = list(assignments)
    existing = existing if existing is not None else set()
    # the bodies valid on each deadline: from 1/3/2025 Phòng Nội vụ receives (and no longer
    # owes) what was Phòng LĐTBXH's (DESIGN.md §11)
    ids = {u for _, u in assignments} | {a for a, _ in plans.values() if a}
    ids |= {line["recipient_id"] for ls in deadlines.values() for line in ls}
    on_day = units_on_days(
        session,
        [i for i in ids if i],
        {line["due_on"] for ls in deadlines.values() for line in ls},
    )
    rows = []
    for plan_id, assigned in assignments:
        agency, issuer = plans[plan_id]
        for line in deadlines.get(plan_id, []):
            valid = on_day[line["due_on"]]
            recipient = line["recipient_id"] or agency
            recipient = valid.get(recipient, recipient) if recipient else None
            unit_id = valid.get(assigned, assigned)
            if unit_id in (recipient, issuer):
                continue
            key = (plan_id, unit_id, line["kind"], line["period"])
            if key in existing:
                continue
            existing.add(key)
            rows.append(
                {
                    "plan_id": plan_id,
                    "unit_id": unit_id,
                    "kind": line["kind"],
                    "period": line["period"],
                    "deadline": line["due_on"],
                    "recipient_id": recipient,
                    "status": State.drafted,
                    "late": False,
                    "overdue": False,
                    "version": 1,
                }
            )
    insert_many(session, table_of(ReportRequest), rows)
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
    if plan.status != State.drafted:  # another run issued it while this one waited for the lock
        raise IllegalTransition(f"Kế hoạch {plan_id} ({plan.number}) "
                                f"{STATE_VI[State(plan.status)]}, không ban hành lại")
    fire(session, plan, "issue", actor=actor, at=at, approver=approver, comment=comment)
    if plan.parent_id is not None:
        _cite_parent(session, plan)
        _sub_plan_delivered(session, plan, actor=actor, at=at)
    _cite_in_children(session, plan)
    created = ensure_requests(session, [plan_id])
    drafted = session.exec(
        select(ReportRequest.id).where(
            ReportRequest.plan_id == plan_id, ReportRequest.status == State.drafted
        )
    ).all()
    issued = fire_many(session, ReportRequest, stored_ids(drafted), "issue", actor=actor, at=at)
    notify.plan_issued(session, plan_id=plan_id)
    session.flush()
    return IssueResult(plan_id=plan_id, requests_created=created, requests_issued=len(issued))


CITATION = "Thực hiện Kế hoạch số "


def parent_citation(session: Session, parent: Plan) -> str:
    """How a sub-plan opens: "Thực hiện Kế hoạch số 70/KH-UBND ngày 17/02/2024 của UBND …";
    "…" stands for a number or a date the parent does not have yet."""
    issuer = session.get(OrgUnit, parent.issuer_id)
    number = parent.number or "…/KH-UBND"
    when = vn_date(parent.issued_on) if parent.issued_on else "…"
    return f"{CITATION}{number} ngày {when} của UBND {issuer.name if issuer else '…'}"


def _cite_parent(session: Session, plan: Plan) -> None:
    """A sub-plan issued after its parent cites the parent's real number and date."""
    if plan.preamble is None or plan.preamble.startswith(CITATION):
        parent = get_plan(session, plan.parent_id)  # type: ignore[arg-type]
        _, _, rest = (plan.preamble or "").partition("\n")
        plan.preamble = parent_citation(session, parent) + (f"\n{rest}" if rest else "")
        session.add(plan)


def _cite_in_children(session: Session, plan: Plan) -> None:
    """Drafted sub-plans pre-filled before ``plan`` had its number now cite it."""
    citation = parent_citation(session, plan)
    for child in session.exec(
        select(Plan).where(Plan.parent_id == plan.id, Plan.status == State.drafted)
    ).all():
        preamble = child.preamble or ""
        if preamble.startswith(CITATION) and not preamble.startswith(citation):
            _, _, rest = preamble.partition("\n")
            child.preamble = citation + (f"\n{rest}" if rest else "")
            session.add(child)


def _sub_plan_delivered(
    session: Session, plan: Plan, *, actor: str, at: datetime | None
) -> None:
    """Issuing its own plan is what a unit owed under its parent's: that request is submitted,
    with the sub-plan as its content, so nobody is reminded of a plan already issued."""
    from planflow.notifications.compose import plan_doc

    request = session.exec(
        select(ReportRequest).where(
            ReportRequest.plan_id == plan.parent_id,
            ReportRequest.unit_id == plan.issuer_id,
            ReportRequest.kind == ReportKind.sub_plan,
            col(ReportRequest.status).in_(OPEN),
        )
    ).first()
    if request is None:
        return
    when = as_utc(at) if at else utcnow()
    fire(session, request, "submit", actor=actor, at=when,
         values=submission_values(request, when), content_checked=True)
    report = session.exec(select(Report).where(Report.request_id == request.id)).first() or Report(
        request_id=request.id,
        plan_id=request.plan_id,
        unit_id=request.unit_id,
        kind=request.kind,
        period=request.period,
    )
    report.narrative = {"sub_plan": plan_doc(plan), "sub_plan_id": str(plan.id)}
    session.add(report)


def sections_of(session: Session, plan: Plan) -> list[PlanSection]:
    """A plan's sections: its own, or (for a cascaded sub-plan that has written none) those of
    its nearest ancestor that has them."""
    current: Plan | None = plan
    while current is not None:
        rows = session.exec(
            select(PlanSection)
            .where(PlanSection.plan_id == current.id)
            .order_by(col(PlanSection.part), col(PlanSection.position))
        ).all()
        if rows:
            return list(rows)
        current = session.get(Plan, current.parent_id) if current.parent_id else None
    return []
