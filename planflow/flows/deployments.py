"""Every deployment in one place: ``planflow serve`` runs them in its own process,
``planflow deploy`` registers them to a Prefect process work pool for ``prefect worker start``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, cast

from planflow.config.settings import get_settings
from planflow.flows.plans import (
    cancel_plan_flow,
    cascade_many_flow,
    cascade_plan_flow,
    issue_plan_flow,
    reconcile_flow,
)
from planflow.flows.reports import (
    aggregate_many_flow,
    aggregate_period_flow,
    record_acknowledgement_flow,
    record_submission_flow,
    return_report_flow,
)
from planflow.flows.runtime import DB_LIMIT
from planflow.flows.sweep import daily_sweep_flow, dispatch_outbox_flow, retry_dead_flow

DAILY_SWEEP_CRON = "30 7 * * *"  # 07:30 local, after the 07:00 start of the send window
RECONCILE_CRON = "0 * * * *"  # hourly: the tree fills level by level without an operator
# every 5 minutes inside the send window, so a message held back by a dropped connection or
# a backoff goes out the same morning, not the next day at the sweep
DISPATCH_CRON = "*/5 7-19 * * *"
WORK_POOL = "planflow"


@dataclass(frozen=True)
class Spec:
    flow: Any
    name: str
    description: str
    cron: str | None = None


SPECS = (
    Spec(daily_sweep_flow, "hang-ngay-0730",
         "Rà soát hằng ngày lúc 7:30: đánh dấu quá hạn, nhắc và báo cáo cấp trên, gửi thông báo",
         DAILY_SWEEP_CRON),
    Spec(reconcile_flow, "moi-gio",
         "Mỗi giờ: phân cấp các kế hoạch đã ban hành mà cây đơn vị có thêm đơn vị", RECONCILE_CRON),
    Spec(issue_plan_flow, "ban-hanh-ke-hoach",
         "Ban hành một kế hoạch (có thể chờ phê duyệt), rồi phân cấp xuống cấp dưới"),
    Spec(cascade_plan_flow, "phan-cap-ke-hoach",
         "Phân cấp một kế hoạch: dự thảo kế hoạch cho mọi UBND cấp dưới (chạy lại an toàn)"),
    Spec(cascade_many_flow, "phan-cap-nhieu-ke-hoach",
         "Phân cấp nhiều kế hoạch (ví dụ 63 tỉnh): chia thành nhiều lượt chạy cho nhiều worker"),
    Spec(cancel_plan_flow, "huy-ke-hoach",
         "Huỷ một kế hoạch, các kế hoạch cấp dưới và yêu cầu báo cáo còn mở"),
    Spec(record_acknowledgement_flow, "ghi-nhan-tiep-nhan",
         "Ghi nhận đơn vị đã tiếp nhận yêu cầu báo cáo"),
    Spec(record_submission_flow, "ghi-nhan-bao-cao", "Ghi nhận báo cáo của một đơn vị"),
    Spec(return_report_flow, "tra-lai-bao-cao", "Trả lại báo cáo để đơn vị sửa, nêu lý do"),
    Spec(aggregate_period_flow, "tong-hop-ky-bao-cao",
         "Tổng hợp một kỳ báo cáo từ dưới lên: tình hình nộp và số liệu so với chỉ tiêu"),
    Spec(aggregate_many_flow, "tong-hop-nhieu-ke-hoach",
         "Tổng hợp một kỳ báo cáo của nhiều kế hoạch (ví dụ 63 tỉnh), mỗi cấp cùng một lúc"),
    Spec(dispatch_outbox_flow, "gui-thong-bao",
         "Gửi các thông báo đến hạn gửi, 5 phút một lần trong giờ gửi (7:00–20:00)",
         DISPATCH_CRON),
    Spec(retry_dead_flow, "gui-lai-thong-bao-loi",
         "Đưa các thông báo gửi lỗi quá số lần trở lại hàng đợi và gửi lại"),
)


HEARTBEAT_SECONDS = 30  # a flow run on a worker says it is alive this often (Prefect's minimum)
ZOMBIE_AFTER_SECONDS = 90  # ... and is marked crashed when it has not for this long


def deployments(*, for_workers: bool = False) -> list:
    """The RunnerDeployments, three on a schedule. ``for_workers``: a worker loads each flow
    from the installed package (``planflow.flows.plans.issue_plan_flow``), not a file, and
    its runs send heartbeats so that a run whose worker died is marked crashed."""
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    kind = EntrypointType.MODULE_PATH if for_workers else EntrypointType.FILE_PATH
    extra = (
        {"job_variables": {"env": {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_SECONDS)}}}
        if for_workers else {}
    )
    return [
        s.flow.to_deployment(
            name=s.name, description=s.description, entrypoint_type=kind,
            schedules=[Cron(s.cron, timezone=get_settings().timezone)] if s.cron else None,
            tags=["planflow", "scheduled"] if s.cron else ["planflow"], **extra,
        )
        for s in SPECS
    ]


ZOMBIE_AUTOMATION = "planflow: lượt chạy mất worker"


def ensure_zombie_automation() -> None:
    """An automation that marks a running flow run crashed when its heartbeats stop (its
    worker was killed or its machine lost), so the parent run and the operator see it. It is
    armed by the run's Running state too: a run killed before its first heartbeat reached the
    server would otherwise stay Running forever. An older version of it is brought up to date."""
    from datetime import timedelta

    from prefect.automations import Automation
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture

    trigger = EventTrigger(
        match={"prefect.resource.id": "prefect.flow-run.*"},
        after={"prefect.flow-run.heartbeat", "prefect.flow-run.Running"},
        expect={"prefect.flow-run.heartbeat", "prefect.flow-run.Completed",
                "prefect.flow-run.Failed", "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed", "prefect.flow-run.Paused"},
        for_each={"prefect.resource.id"},
        posture=Posture.Proactive,
        threshold=1,
        within=timedelta(seconds=ZOMBIE_AFTER_SECONDS),
    )
    try:
        # sync here: Prefect's dual sync/async API returns the Automation, not a coroutine
        existing = cast("Automation", Automation.read(name=ZOMBIE_AUTOMATION))
    except ValueError:
        existing = None
    if existing is not None:
        if existing.trigger != trigger:
            existing.trigger = trigger
            existing.update()
        return
    Automation(
        name=ZOMBIE_AUTOMATION,
        description="Đánh dấu Crashed lượt chạy không còn tín hiệu sống (worker bị dừng đột ngột)",
        trigger=trigger,
        actions=[ChangeFlowRunState(
            state="CRASHED", message="Worker không còn tín hiệu sống: lượt chạy bị gián đoạn",
        )],
    ).create()


def ensure_db_limit(limit: int = 4) -> None:
    """Create the global concurrency limit of database-heavy tasks if the server lacks it."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(DB_LIMIT)
        except ObjectNotFound:
            with contextlib.suppress(ObjectAlreadyExists):
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=DB_LIMIT, limit=limit)
                )


def serve_all() -> None:
    """Register every deployment with the Prefect server in PREFECT_API_URL and run them."""
    import os

    from prefect import serve

    # runs served here send heartbeats too, so the automation above never takes one for dead
    os.environ.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", str(HEARTBEAT_SECONDS))
    ensure_db_limit()
    serve(*deployments(), print_starting_message=True)


def deploy_all(pool: str = WORK_POOL, db_limit: int = 4) -> list[str]:
    """Register every deployment to the process work pool ``pool`` (created if missing) and
    the global concurrency limit of database-heavy tasks; returns ``flow/deployment`` names."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
    ensure_db_limit(db_limit)
    ensure_zombie_automation()
    names = []
    for deployment in deployments(for_workers=True):
        deployment.apply(work_pool_name=pool)
        names.append(f"{deployment.flow_name}/{deployment.name}")
    return names
