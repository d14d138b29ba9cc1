"""Event hooks that services call inside their own transaction: a rollback drops the messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, select

from planflow.config.db import batched
from planflow.models import Assignment, OrgUnit, Plan, PlanDeadline, ReportRequest
from planflow.models.base import TABLE_VI, pk
from planflow.models.outbox import MessageKind
from planflow.notifications.compose import (
    ROLE_LABELS,
    configured_channels,
    drafts_for_unit,
    plan_doc,
    plan_ref,
    report_title,
    verb_for,
)
from planflow.notifications.outbox import enqueue
from planflow.states.errors import NotFound


def _get(session: Session, model, ident: int | None):
    row = session.get(model, ident) if ident is not None else None
    if row is None:
        raise NotFound(f"không có {TABLE_VI.get(model.__name__, model.__tablename__)} {ident}")
    return row


def _units(session: Session, ids: Iterable[int | None]) -> dict[int, OrgUnit]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {pk(u): u for u in session.exec(select(OrgUnit).where(col(OrgUnit.id).in_(wanted)))}


def notify_plan_issued(
    session: Session, *, plan_id: int, channels: Iterable[str] | None = None
) -> int:
    """Queue, for every unit the plan assigns, its duties and deadlines; returns rows added."""
    names = configured_channels(channels)
    plan = _get(session, Plan, plan_id)
    assignments = list(
        session.exec(
            select(Assignment)
            .where(col(Assignment.plan_id) == plan_id)
            .order_by(col(Assignment.position))
        )
    )
    regime = list(
        session.exec(
            select(PlanDeadline)
            .where(PlanDeadline.plan_id == plan_id)
            .order_by(col(PlanDeadline.due_on))
        )
    )
    requests = list(session.exec(select(ReportRequest).where(ReportRequest.plan_id == plan_id)))
    units = _units(
        session,
        [plan.issuer_id, plan.standing_agency_id]
        + [a.unit_id for a in assignments]
        + [d.recipient_id for d in regime]
        + [r.recipient_id for r in requests],
    )
    issuer = units[plan.issuer_id]
    default_to = units.get(plan.standing_agency_id or -1, issuer)
    ref = plan_ref(plan, issuer)
    own: dict[int, list[ReportRequest]] = {}
    for r in sorted(requests, key=lambda r: r.deadline):
        own.setdefault(r.unit_id, []).append(r)

    drafts = []
    for assignment in assignments:
        if assignment.unit_id == plan.issuer_id:  # a committee's own duties: not an assignment
            continue
        unit = units[assignment.unit_id]
        # the unit's own requests carry its (earlier, level-adjusted) deadlines; else the regime
        lines: Sequence[ReportRequest | PlanDeadline] = own.get(pk(unit)) or regime
        dues = [line.deadline if isinstance(line, ReportRequest) else line.due_on for line in lines]
        deadlines = [
            {
                "report": report_title(line.kind, line.period),
                "due": due,
                "to": units.get(line.recipient_id or -1, default_to).label,
            }
            for line, due in zip(lines, dues, strict=True)
        ]
        context = {
            "issuer": issuer.label,
            "plan_ref": ref,
            "plan_doc": plan_doc(plan),
            "plan_title": plan.title,
            "verb": verb_for(unit, requested=assignment.requested),
            "role_label": ROLE_LABELS.get(assignment.role, "chủ trì"),
            "duties": assignment.duties.strip() or "Theo nội dung Kế hoạch.",
            "deadlines": deadlines,
        }
        drafts += drafts_for_unit(
            session,
            unit,
            kind=MessageKind.plan_issued,
            about=f"plan_issued:p{plan.id}v{plan.version}:u{unit.id}",
            context=context,
            channels=names,
            path=f"/plans/{plan.id}",
            deadline=dues[0] if dues else None,
        )
    return len(enqueue(session, drafts))


def _request_context(session: Session, request: ReportRequest) -> tuple[OrgUnit, dict]:
    plan = _get(session, Plan, request.plan_id)
    units = _units(
        session, [request.unit_id, request.recipient_id, plan.issuer_id, plan.standing_agency_id]
    )
    unit, issuer = units[request.unit_id], units[plan.issuer_id]
    to = units.get(request.recipient_id or plan.standing_agency_id or -1, issuer)
    return unit, {
        "issuer": issuer.label,
        "plan_ref": plan_ref(plan, issuer),
        "verb": verb_for(unit),
        "report": report_title(request.kind, request.period),
        "deadline": request.deadline,
        "to": to.label,
    }


def notify_report_requested(
    session: Session, *, request_id: int, channels: Iterable[str] | None = None
) -> int:
    """Queue the 'report requested' message for one issued request; returns rows added."""
    request = _get(session, ReportRequest, request_id)
    unit, context = _request_context(session, request)
    drafts = drafts_for_unit(
        session,
        unit,
        kind=MessageKind.report_requested,
        about=f"report_requested:r{request.id}",
        context=context,
        channels=configured_channels(channels),
        path=f"/requests/{request.id}",
        deadline=request.deadline,
    )
    return len(enqueue(session, drafts))


def notify_returned(
    session: Session, *, request_id: int, reason: str, channels: Iterable[str] | None = None
) -> int:
    """Queue 'returned for revision' with its reason; each return (request version) once."""
    request = _get(session, ReportRequest, request_id)
    unit, context = _request_context(session, request)
    drafts = drafts_for_unit(
        session,
        unit,
        kind=MessageKind.returned,
        about=f"returned:r{request.id}v{request.version}",
        context={**context, "reason": reason.strip()},
        channels=configured_channels(channels),
        path=f"/requests/{request.id}",
        deadline=request.deadline,
    )
    return len(enqueue(session, drafts))


def notify_plan_cancelled(
    session: Session,
    *,
    plan_id: int,
    request_ids: Iterable[int],
    reason: str,
    channels: Iterable[str] | None = None,
) -> int:
    """Queue one 'plan cancelled' message per unit whose requests were cancelled, listing them;
    keyed by the cancelled plan and the unit, so each unit is told once. Returns units told."""
    names = configured_channels(channels)
    top = _get(session, Plan, plan_id)
    ids = list(request_ids)
    requests = [
        r
        for chunk in batched(ids)
        for r in session.exec(
            select(ReportRequest).where(col(ReportRequest.id).in_(chunk))
        )
    ]
    plans = {top.id: top}
    for plan in session.exec(select(Plan).where(col(Plan.id).in_({r.plan_id for r in requests}))):
        plans[plan.id] = plan
    units = _units(session, [top.issuer_id] + [p.issuer_id for p in plans.values()]
                   + [r.unit_id for r in requests])
    by_unit: dict[int, list[ReportRequest]] = {}
    for r in sorted(requests, key=lambda r: (r.deadline, r.id)):
        by_unit.setdefault(r.unit_id, []).append(r)
    issuer = units[top.issuer_id]
    told = 0
    for unit_id, own in sorted(by_unit.items()):
        unit = units[unit_id]
        reports = [
            {
                "report": report_title(r.kind, r.period),
                "plan_ref": plan_ref(plans[r.plan_id], units[plans[r.plan_id].issuer_id]),
                "deadline": r.deadline,
            }
            for r in own
        ]
        drafts = drafts_for_unit(
            session,
            unit,
            kind=MessageKind.plan_cancelled,
            about=f"plan_cancelled:p{top.id}:u{unit.id}",
            context={
                "issuer": issuer.label,
                "plan_ref": plan_ref(top, issuer),
                "plan_doc": plan_doc(top),
                "reason": reason,
                "reports": reports,
            },
            channels=names,
            path=f"/plans/{top.id}",
        )
        told += bool(enqueue(session, drafts))
    return told
