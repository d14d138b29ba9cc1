"""Where every plan tree stands: plans and report requests counted by state."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import func, select
from sqlmodel import Session

from planflow.models import OrgUnit, Plan, ReportRequest


def status_summary(session: Session) -> list[dict]:
    """One entry per root plan: its own state, and its tree's plans and requests by state."""
    roots = session.exec(
        select(Plan, OrgUnit).join(OrgUnit, OrgUnit.id == Plan.issuer_id).where(
            Plan.parent_id.is_(None)
        ).order_by(Plan.id)
    ).all()
    plan_states: dict[int, Counter] = defaultdict(Counter)
    for tree_id, state, count in session.execute(
        select(func.coalesce(Plan.root_id, Plan.id), Plan.status, func.count()).group_by(
            func.coalesce(Plan.root_id, Plan.id), Plan.status
        )
    ).all():
        plan_states[tree_id][state] += count
    request_states: dict[int, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for tree_id, kind, state, count in session.execute(
        select(
            func.coalesce(Plan.root_id, Plan.id),
            ReportRequest.kind,
            ReportRequest.status,
            func.count(),
        )
        .join(Plan, Plan.id == ReportRequest.plan_id)
        .group_by(func.coalesce(Plan.root_id, Plan.id), ReportRequest.kind, ReportRequest.status)
    ).all():
        request_states[tree_id][kind][state] += count
    out = []
    for plan, issuer in roots:
        out.append(
            {
                "plan_id": plan.id,
                "number": plan.number,
                "year": plan.year,
                "title": plan.title,
                "issuer": issuer.label,
                "status": plan.status,
                "plans_by_state": dict(plan_states[plan.id]),
                "requests_by_kind_and_state": {
                    kind: dict(states) for kind, states in request_states[plan.id].items()
                },
            }
        )
    return out
