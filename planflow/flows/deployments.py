"""Every deployment in one place, and ``serve`` for ``planflow serve``."""

from __future__ import annotations

from planflow.flows.plans import (
    cancel_plan_flow,
    cascade_plan_flow,
    issue_plan_flow,
    reconcile_flow,
)
from planflow.flows.reports import (
    aggregate_period_flow,
    record_acknowledgement_flow,
    record_submission_flow,
    return_report_flow,
)
from planflow.flows.sweep import daily_sweep_flow, dispatch_outbox_flow

TIMEZONE = "Asia/Ho_Chi_Minh"
DAILY_SWEEP_CRON = "30 7 * * *"  # 07:30 local, after the 07:00 start of the send window
RECONCILE_CRON = "0 * * * *"  # hourly: the tree fills level by level without an operator


def deployments() -> list:
    """The RunnerDeployments ``planflow serve`` registers (two on a schedule)."""
    from prefect.schedules import Cron

    return [
        daily_sweep_flow.to_deployment(
            name="daily", schedules=[Cron(DAILY_SWEEP_CRON, timezone=TIMEZONE)],
            tags=["planflow", "scheduled"],
        ),
        reconcile_flow.to_deployment(
            name="hourly", schedules=[Cron(RECONCILE_CRON, timezone=TIMEZONE)],
            tags=["planflow", "scheduled"],
        ),
        issue_plan_flow.to_deployment(name="operator", tags=["planflow"]),
        cascade_plan_flow.to_deployment(name="operator", tags=["planflow"]),
        cancel_plan_flow.to_deployment(name="operator", tags=["planflow"]),
        record_acknowledgement_flow.to_deployment(name="operator", tags=["planflow"]),
        record_submission_flow.to_deployment(name="operator", tags=["planflow"]),
        return_report_flow.to_deployment(name="operator", tags=["planflow"]),
        aggregate_period_flow.to_deployment(name="operator", tags=["planflow"]),
        dispatch_outbox_flow.to_deployment(name="operator", tags=["planflow"]),
    ]


def serve_all() -> None:
    """Register every deployment with the Prefect server in PREFECT_API_URL and run them."""
    from prefect import serve

    serve(*deployments(), print_starting_message=True)
