"""Flows that issue plans and cascade them down the tree (thin: the services do the work)."""

from __future__ import annotations

from collections import defaultdict

from prefect import flow, get_run_logger, pause_flow_run, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.input import RunInput
from pydantic import BaseModel
from sqlmodel import select

from planflow.flows.runtime import by_weight, retry_on_database_busy, unit_of_work
from planflow.models import OrgUnit, Plan, State, UnitKind
from planflow.services import cancel as cancel_service
from planflow.services import cascade as cascade_service
from planflow.services import plans as plan_service

DB_TASK = {"cache_policy": NONE, "retries": 2, "retry_delay_seconds": 2,
           "retry_condition_fn": retry_on_database_busy}


class Approval(RunInput):
    """What an operator enters in the Prefect UI to let a plan be issued."""

    approved: bool = True
    approved_by: str
    comment: str = ""


class IssueSummary(BaseModel):
    plan_id: int
    issued: bool
    approved_by: str | None = None
    requests_issued: int = 0
    sub_plans_created: int = 0


class CascadeSummary(BaseModel):
    plan_id: int
    batches: int
    created: int
    existing: int
    requests_created: int
    created_by_branch: dict[str, int]


@task(**DB_TASK)
def issue_plan_task(plan_id: int, actor: str) -> dict:
    with unit_of_work() as session:
        result = plan_service.issue_plan(session=session, plan_id=plan_id, actor=actor)
        return {"requests_issued": result.requests_issued}


@task(cache_policy=NONE)
def branches_of(plan_id: int) -> list[tuple[int, int]]:
    """The child committees of the plan's issuer (the first level of the cascade), each with
    the number of units in its subtree."""
    with unit_of_work() as session:
        plan = plan_service.get_plan(session, plan_id)
        issuer = session.get(OrgUnit, plan.issuer_id)
        children = session.exec(
            select(OrgUnit.id, OrgUnit.path)
            .where(OrgUnit.parent_id == issuer.id, OrgUnit.kind == UnitKind.committee)
            .order_by(OrgUnit.code)
        ).all()
        below = session.exec(
            select(OrgUnit.path).where(
                OrgUnit.tiers == issuer.tiers, OrgUnit.path.startswith(issuer.path + "/")
            )
        ).all()
        depth = issuer.path.count("/") + 1
        sizes: dict[str, int] = defaultdict(int)
        for path in below:
            sizes["/".join(path.split("/")[: depth + 1])] += 1
        return [(child_id, sizes[path]) for child_id, path in children]


@task(**DB_TASK)
def cascade_batch(plan_id: int, branch_ids: list[int]) -> dict:
    """Cascade one batch of subtrees (a district and its wards) in one transaction."""
    with unit_of_work() as session:
        r = cascade_service.cascade_plan(session=session, plan_id=plan_id, branch_ids=branch_ids)
        return {
            "created": r.created,
            "existing": r.existing,
            "requests_created": r.requests_created,
            "created_by_branch": r.created_by_branch,
        }


@flow(name="cascade-plan", log_prints=True)
def cascade_plan_flow(plan_id: int, units_per_task: int = 2000) -> CascadeSummary:
    """Create the drafted sub-plans of every child committee; one task per batch of whole
    subtrees of about ``units_per_task`` units (never one per ward); safe to re-run."""
    branches = by_weight(branches_of(plan_id), max(1, units_per_task))
    summary = CascadeSummary(
        plan_id=plan_id, batches=0, created=0, existing=0, requests_created=0,
        created_by_branch={},
    )
    for batch in branches:
        part = cascade_batch(plan_id, batch)
        summary.batches += 1
        summary.created += part["created"]
        summary.existing += part["existing"]
        summary.requests_created += part["requests_created"]
        summary.created_by_branch.update(part["created_by_branch"])
    rows = [
        {"unit": name, "sub_plans_created": count}
        for name, count in sorted(summary.created_by_branch.items())
    ]
    create_table_artifact(
        key=f"cascade-plan-{plan_id}",
        table=rows or [{"unit": "(none)", "sub_plans_created": 0}],
        description=(
            f"Plan {plan_id}: {summary.created} sub-plans created, {summary.existing} already "
            f"there, {summary.requests_created} report requests created."
        ),
    )
    return summary


@flow(name="issue-plan", log_prints=True)
def issue_plan_flow(
    plan_id: int,
    actor: str = "operator",
    require_approval: bool = False,
    approval_timeout_hours: float = 24.0,
    cascade: bool = True,
) -> IssueSummary:
    """Issue a drafted plan (optionally after an approval entered in the UI), then cascade it."""
    logger = get_run_logger()
    approved_by = None
    if require_approval:
        approval = pause_flow_run(
            wait_for_input=Approval.with_initial_data(approved_by=""),
            timeout=int(approval_timeout_hours * 3600),
            poll_interval=1,
        )
        if not approval.approved:
            logger.warning("plan %s was not approved: %s", plan_id, approval.comment)
            create_markdown_artifact(
                key=f"issue-plan-{plan_id}",
                markdown=f"Plan {plan_id} **not approved** by {approval.approved_by}: "
                f"{approval.comment}",
            )
            return IssueSummary(plan_id=plan_id, issued=False, approved_by=approval.approved_by)
        approved_by = approval.approved_by
        actor = f"{actor} (approved by {approved_by})"
    issued = issue_plan_task(plan_id, actor)
    summary = IssueSummary(
        plan_id=plan_id, issued=True, approved_by=approved_by,
        requests_issued=issued["requests_issued"],
    )
    if cascade:
        summary.sub_plans_created = cascade_plan_flow(plan_id).created
    create_markdown_artifact(
        key=f"issue-plan-{plan_id}",
        markdown=(
            f"Plan {plan_id} issued by {actor}: {summary.requests_issued} report requests issued,"
            f" {summary.sub_plans_created} sub-plans drafted."
        ),
    )
    return summary


class CancelSummary(BaseModel):
    plan_id: int
    already_cancelled: bool
    plans_cancelled: int
    requests_cancelled: int
    requests_kept: int
    units_notified: int
    line: str


@task(**DB_TASK)
def cancel_plan_task(plan_id: int, reason: str, actor: str) -> CancelSummary:
    with unit_of_work() as session:
        r = cancel_service.cancel_plan(session=session, plan_id=plan_id, reason=reason, actor=actor)
        return CancelSummary(
            plan_id=plan_id, already_cancelled=r.already_cancelled,
            plans_cancelled=len(r.plans_cancelled), requests_cancelled=len(r.requests_cancelled),
            requests_kept=r.requests_kept, units_notified=r.units_notified, line=r.line(),
        )


@flow(name="cancel-plan", log_prints=True)
def cancel_plan_flow(plan_id: int, reason: str, actor: str = "operator") -> CancelSummary:
    """Cancel a plan, its sub-plans and their open report requests in one transaction; the
    units are told once. Running it again changes nothing."""
    summary = cancel_plan_task(plan_id, reason, actor)
    create_markdown_artifact(key=f"cancel-plan-{plan_id}", markdown=summary.line)
    return summary


@task(cache_policy=NONE)
def plans_needing_cascade() -> list[int]:
    """Issued plans with a child committee that has no sub-plan yet (a unit added, or a
    sub-plan issued whose own children were not cascaded)."""
    with unit_of_work() as session:
        live = (State.issued, State.acknowledged, State.submitted)
        plans = session.exec(select(Plan.id, Plan.issuer_id).where(Plan.status.in_(live))).all()
        children: dict[int, set[int]] = defaultdict(set)
        for parent_id, unit_id in session.exec(
            select(OrgUnit.parent_id, OrgUnit.id).where(
                OrgUnit.kind == UnitKind.committee, OrgUnit.active, OrgUnit.parent_id.is_not(None)
            )
        ).all():
            children[parent_id].add(unit_id)
        covered: dict[int, set[int]] = defaultdict(set)
        for parent_id, issuer_id in session.exec(
            select(Plan.parent_id, Plan.issuer_id).where(Plan.parent_id.is_not(None))
        ).all():
            covered[parent_id].add(issuer_id)
        return [pid for pid, issuer in plans if children[issuer] - covered[pid]]


@flow(name="reconcile-cascades", log_prints=True)
def reconcile_flow() -> list[int]:
    """Cascade every issued plan whose tree has changed; scheduled, so the tree fills itself."""
    needing = plans_needing_cascade()
    for plan_id in needing:
        cascade_plan_flow(plan_id)
    create_markdown_artifact(
        key="reconcile-cascades",
        markdown=f"{len(needing)} plan(s) cascaded: {needing or 'none needed'}",
    )
    return needing

