"""Flows that record what units send and aggregate a period upward."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from pydantic import BaseModel, Field
from sqlmodel import select

from planflow.flows.runtime import retry_on_database_busy, unit_of_work
from planflow.models import Plan, ReportKind
from planflow.services import aggregation
from planflow.services import reporting as reporting_service

DB_TASK = {"cache_policy": NONE, "retries": 2, "retry_delay_seconds": 2,
           "retry_condition_fn": retry_on_database_busy}


class FigureInput(BaseModel):
    """One indicator's figures as an operator types them (leave blank: not reported)."""

    male: int | None = Field(default=None, description="nam")
    female: int | None = Field(default=None, description="nữ")
    total: int | None = Field(default=None, description="tổng số")
    numerator: int | None = Field(default=None, description="tử số")
    denominator: int | None = Field(default=None, description="mẫu số")


class AggregationSummary(BaseModel):
    plan_id: int
    kind: ReportKind
    period: str
    compiled_units: int
    aggregated_requests: int
    figures_met: int
    figures_not_met: int
    figures_not_assessable: int


@flow(name="record-acknowledgement")
def record_acknowledgement_flow(
    request_id: int, actor: str, received_at: datetime | None = None
) -> str:
    """Record that a unit received its report request (e.g. a paper receipt arrived)."""
    with unit_of_work() as session:
        row = reporting_service.acknowledge(
            session=session, request_id=request_id, actor=actor, at=received_at
        )
        return row.status


@flow(name="record-submission")
def record_submission_flow(
    request_id: int,
    figures: dict[str, FigureInput],
    actor: str,
    narrative: dict[str, str] | None = None,
    unit_code: str | None = None,
    period: str | None = None,
    received_at: datetime | None = None,
) -> str:
    """Record a unit's report: validated, or refused with the field and the reason.
    ``received_at``: when a paper letter arrived (default now); it decides 'late'."""
    plain = {code: f.model_dump(exclude_none=True) for code, f in figures.items()}
    with unit_of_work() as session:
        reporting_service.submit_report(
            session=session,
            request_id=request_id,
            figures=plain,
            narrative=narrative,
            actor=actor,
            unit_code=unit_code,
            period=period,
            at=received_at,
        )
    return "submitted"


@flow(name="return-report")
def return_report_flow(request_id: int, reason: str, actor: str) -> str:
    """Send a submitted report back to its unit for revision, with the reason."""
    with unit_of_work() as session:
        row = reporting_service.return_report(
            session=session, request_id=request_id, reason=reason, actor=actor
        )
        return row.status


@task(cache_policy=NONE)
def child_plans(plan_id: int) -> list[int]:
    with unit_of_work() as session:
        return list(
            session.exec(select(Plan.id).where(Plan.parent_id == plan_id).order_by(Plan.id)).all()
        )


@task(**DB_TASK)
def aggregate_subtree(plan_id: int, kind: ReportKind, period: str, actor: str, only_top: bool):
    with unit_of_work() as session:
        result = aggregation.aggregate_period(
            session=session, plan_id=plan_id, kind=kind, period=period, actor=actor,
            only_top=only_top,
        )
        return [n.__dict__ | {"rate": n.rate} for n in result.nodes], result.aggregated


@flow(name="aggregate-period", log_prints=True)
def aggregate_period_flow(
    plan_id: int, kind: ReportKind = ReportKind.six_month, period: str = "2025-H1",
    actor: str = "standing agency",
) -> AggregationSummary:
    """Compile one period bottom-up: each child subtree in its own task, then the top."""
    nodes: list[dict] = []
    aggregated = 0
    for child in child_plans(plan_id):
        part, moved = aggregate_subtree(child, kind, period, actor, False)
        nodes += part
        aggregated += moved
    part, moved = aggregate_subtree(plan_id, kind, period, actor, True)
    nodes += part
    aggregated += moved
    with unit_of_work() as session:
        _, figures = aggregation.compiled_figures(
            session, plan_id=plan_id, kind=kind, period=period
        )
    publish_aggregation(plan_id, kind, period, nodes, figures)
    status = [f.status for f in figures]
    return AggregationSummary(
        plan_id=plan_id, kind=kind, period=period, compiled_units=len(nodes),
        aggregated_requests=aggregated, figures_met=status.count("met"),
        figures_not_met=status.count("not met"),
        figures_not_assessable=status.count("cannot be assessed"),
    )


def publish_aggregation(plan_id, kind, period, nodes: list[dict], figures) -> None:
    """The operator's view: who is missing or late per committee, and the compiled figures."""
    direct = [n for n in nodes if n["plan_id"] == plan_id]
    children = sorted((n for n in nodes if n["plan_id"] != plan_id), key=lambda n: n["unit"])
    create_table_artifact(
        key=f"completeness-{plan_id}-{kind.replace('_', '-')}-{period.lower()}",
        table=[
            {
                "unit": n["unit"],
                "expected": n["expected"],
                "on_time": n["on_time"],
                "late": n["late"],
                "missing": n["missing"],
                "rate_%": round(n["rate"], 1),
                "late_units": ", ".join(n["late_units"]),
                "missing_units": ", ".join(n["missing_units"]),
            }
            for n in direct + children
        ],
        description=f"Completeness of the {kind} report {period}: who reported, late, missing.",
    )
    create_table_artifact(
        key=f"compiled-figures-{plan_id}-{kind.replace('_', '-')}-{period.lower()}",
        table=[
            {
                "code": f.code,
                "indicator": f.name,
                "female": f.female,
                "male": f.male,
                "total": f.total,
                "numerator": f.numerator,
                "denominator": f.denominator,
                "value": f.value,
                "target": f.target,
                "status": f.status,
            }
            for f in figures
        ],
        description=f"Compiled figures of plan {plan_id}, {kind} {period}, against targets.",
    )
