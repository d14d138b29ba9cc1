"""Where every plan tree stands: plans and report requests counted by state."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from planflow.models import OrgUnit, Plan, Report, ReportRequest
from planflow.models.base import pk


def status_summary(session: Session) -> list[dict]:
    """One entry per root plan: its own state, and its tree's plans and requests by state."""
    roots = session.exec(
        select(Plan, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == col(Plan.issuer_id))
        .where(col(Plan.parent_id).is_(None))
        .order_by(col(Plan.id))
    ).all()
    tree = func.coalesce(col(Plan.root_id), col(Plan.id))
    plan_states: dict[int, Counter] = defaultdict(Counter)
    for tree_id, state, count in session.execute(
        sa_select(tree, col(Plan.status), func.count()).group_by(tree, col(Plan.status))
    ).all():
        plan_states[tree_id][state] += count
    request_states: dict[int, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    kind_, status_ = col(ReportRequest.kind), col(ReportRequest.status)
    for tree_id, kind, state, count in session.execute(
        sa_select(tree, kind_, status_, func.count())
        .join(Plan, col(Plan.id) == col(ReportRequest.plan_id))
        .group_by(tree, kind_, status_)
    ).all():
        request_states[tree_id][kind][state] += count
    stale: dict[int, list[dict]] = defaultdict(list)
    for tree_id, plan_id, kind, period in session.execute(
        sa_select(tree, col(Report.plan_id), col(Report.kind), col(Report.period))
        .join(Plan, col(Plan.id) == col(Report.plan_id))
        .where(col(Report.consolidated), col(Report.stale))
        .order_by(col(Report.plan_id))
    ).all():
        stale[tree_id].append({"plan_id": plan_id, "kind": kind, "period": period})
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
                "plans_by_state": dict(plan_states[pk(plan)]),
                "requests_by_kind_and_state": {
                    kind: dict(states) for kind, states in request_states[pk(plan)].items()
                },
                "stale_compiled_reports": stale[pk(plan)],
            }
        )
    return out
