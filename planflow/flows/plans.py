"""Flows that issue plans and cascade them down the tree (thin: the services do the work)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Literal, cast

from prefect import flow, get_run_logger, pause_flow_run
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.input import RunInput
from prefect.states import Failed, State
from pydantic import BaseModel, Field
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

from planflow.config.db import batched
from planflow.flows.runtime import (
    artifact_key,
    by_weight,
    db_slot,
    db_task,
    plan_label,
    run_parameter,
    unit_of_work,
)
from planflow.models import OrgUnit, Plan
from planflow.models import State as PlanState
from planflow.services import cancel as cancel_service
from planflow.services import cascade as cascade_service
from planflow.services import plans as plan_service
from planflow.states import ConcurrentTransition, PlanflowError
from planflow.vntext import vn_int


class Approval(RunInput):
    """Phê duyệt ban hành kế hoạch: người phê duyệt, quyết định và ý kiến (đều bắt buộc)."""

    approver: str = Field(
        title="Người phê duyệt", min_length=2, max_length=120,
        description="Họ tên và chức vụ người phê duyệt, ví dụ: Nguyễn Văn A, Phó Chủ tịch UBND",
    )
    decision: Literal["phê duyệt", "không phê duyệt"] = Field(
        title="Quyết định",
        description="«phê duyệt»: ban hành ngay; «không phê duyệt»: kế hoạch vẫn là dự thảo",
    )
    comment: str = Field(
        title="Ý kiến", min_length=1, max_length=2000,
        description="Ý kiến của người phê duyệt; được lưu vào nhật ký của kế hoạch",
    )


class IssueSummary(BaseModel):
    plan_id: int
    number: str | None = None
    issued: bool
    approver: str | None = None
    comment: str | None = None
    requests_issued: int = 0
    sub_plans_created: int = 0


class CascadeSummary(BaseModel):
    plan_id: int
    batches: int
    created: int
    existing: int
    requests_created: int
    created_by_branch: dict[str, int]


def issue_run_name() -> str:
    number = run_parameter("number") or plan_label(run_parameter("plan_id"))
    return f"ban hành {number}"


def cascade_run_name() -> str:
    return f"phân cấp {plan_label(run_parameter('plan_id'))}"


@db_task
def issue_plan_task(
    plan_id: int, actor: str, approver: str | None = None, comment: str | None = None
) -> dict:
    """Issue the plan and its report requests in one transaction; a refusal by the lifecycle
    (already issued, changed meanwhile) comes back as one line, not a traceback."""
    try:
        with db_slot(), unit_of_work() as session:
            result = plan_service.issue_plan(
                session=session, plan_id=plan_id, actor=actor, approver=approver,
                comment=comment,
            )
            return {"requests_issued": result.requests_issued}
    except ConcurrentTransition:
        return {"error": f"Kế hoạch {plan_id} vừa được một lượt chạy khác ban hành; "
                         "không ban hành lại"}
    except PlanflowError as exc:
        return {"error": str(exc)}


def _prepare(plan_id: int, details: dict) -> dict:
    """Enter the given details, then check the plan could be issued now (before anyone is
    asked to approve it); returns what names the plan."""
    with unit_of_work() as session:
        if any(v is not None for v in details.values()):
            plan_service.set_details(session, plan_id, **details)
        plan = plan_service.check_issuable(session, plan_id)
        issuer = session.get(OrgUnit, plan.issuer_id)
        return {
            "number": plan.number, "title": plan.title,
            "issuer": issuer.name if issuer else "?",
            "signer": ", ".join(x for x in (plan.signer_name, plan.signer_title) if x),
            "issued_on": plan.issued_on.strftime("%d/%m/%Y") if plan.issued_on else "",
        }


@db_task
def branches_of(plan_id: int) -> list[tuple[int, int]]:
    """The child committees of the plan's issuer, each with the number of units below it."""
    with unit_of_work() as session:
        return cascade_service.branches(session, plan_id)


def _hold(session: Session, *plan_ids: int) -> None:
    """Lock the plans' rows for this transaction, in id order (PostgreSQL; SQLite has one
    writer anyway): two cascades of one plan at once (a late child run and the reconcile) take
    turns, and the second finds every sub-plan there instead of failing on the unique
    constraint."""
    for chunk in batched(sorted(plan_ids)):
        session.execute(
            sa_select(col(Plan.id))
            .where(col(Plan.id).in_(chunk))
            .order_by(col(Plan.id))
            .with_for_update(key_share=True)
        )


@db_task
def cascade_batch(plan_id: int, branch_ids: list[int]) -> dict:
    """Cascade one batch of subtrees (a district and its wards) in one transaction."""
    with db_slot(), unit_of_work() as session:
        _hold(session, plan_id)
        r = cascade_service.cascade_plan(session=session, plan_id=plan_id, branch_ids=branch_ids)
        return {
            "created": r.created,
            "existing": r.existing,
            "requests_created": r.requests_created,
            "created_by_branch": r.created_by_branch,
        }


@flow(name="cascade-plan", flow_run_name=cascade_run_name, log_prints=True)
def cascade_plan_flow(plan_id: int, units_per_task: int = 2000) -> CascadeSummary:
    """Phân cấp kế hoạch: tạo dự thảo kế hoạch của mọi UBND cấp dưới (chạy lại an toàn).

    Args:
        plan_id: Mã kế hoạch (số thứ tự trong cơ sở dữ liệu, xem `planflow status`)
        units_per_task: Số đơn vị tối đa mỗi tác vụ (các cây con trọn vẹn; 1 = mỗi quận/huyện
            một tác vụ)
    """
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
        {"Đơn vị": name, "Kế hoạch cấp dưới mới tạo": vn_int(count)}
        for name, count in sorted(summary.created_by_branch.items())
    ]
    create_table_artifact(
        key=artifact_key("phan-cap", plan_id),
        table=rows or [{"Đơn vị": "(không có)", "Kế hoạch cấp dưới mới tạo": "0"}],
        description=(
            f"Phân cấp {plan_label(plan_id)}: tạo mới {vn_int(summary.created)} kế hoạch cấp "
            f"dưới, {vn_int(summary.existing)} đã có từ trước, "
            f"{vn_int(summary.requests_created)} yêu cầu báo cáo."
        ),
    )
    return summary


@flow(name="issue-plan", flow_run_name=issue_run_name, log_prints=True)
def issue_plan_flow(
    plan_id: int,
    actor: str = "văn thư",
    number: str | None = None,
    issued_on: date | None = None,
    signer: str | None = None,
    signer_title: str | None = None,
    require_approval: bool = False,
    approval_timeout_hours: float = 24.0,
    cascade: bool = True,
) -> IssueSummary | State:
    """Ban hành kế hoạch (sau khi được phê duyệt nếu cần), rồi phân cấp xuống cấp dưới.

    Args:
        plan_id: Mã kế hoạch (số thứ tự trong cơ sở dữ liệu, xem `planflow status`)
        actor: Người thực hiện, ghi vào nhật ký
        number: Số, ký hiệu văn bản (ví dụ 01/KH-UBND), nếu chưa nhập
        issued_on: Ngày ban hành, nếu chưa nhập
        signer: Họ tên người ký, nếu chưa nhập
        signer_title: Chức vụ người ký (ví dụ KT. CHỦ TỊCH PHÓ CHỦ TỊCH), nếu chưa nhập
        require_approval: Dừng chờ phê duyệt trên giao diện Prefect (nút Resume) trước khi
            ban hành
        approval_timeout_hours: Số giờ chờ phê duyệt tối đa
        cascade: Phân cấp ngay sau khi ban hành
    """
    logger = get_run_logger()
    resumed = _finish_if_issued(plan_id, cascade)
    if resumed is not None:  # a run that died after issuing: finish its cascade
        return resumed
    details = {"number": number, "issued_on": issued_on, "signer_name": signer,
               "signer_title": signer_title}
    try:
        plan = _prepare(plan_id, details)
    except PlanflowError as exc:
        return Failed(message=str(exc))
    name = plan["number"]
    approver = comment = None
    if require_approval:
        approval = pause_flow_run(
            wait_for_input=Approval.with_initial_data(description=(
                f"### Phê duyệt ban hành {name}\n\n**{plan['title']}**\n\n"
                f"- Cơ quan ban hành: {plan['issuer']}\n- Người ký: {plan['signer']}\n"
                f"- Ngày ban hành: {plan['issued_on']}\n- Mã kế hoạch: {plan_id}\n\n"
                "Chọn «phê duyệt» để ban hành ngay, «không phê duyệt» để giữ dự thảo."
            )),
            timeout=int(approval_timeout_hours * 3600),
            poll_interval=1,
        )
        approver, comment = approval.approver, approval.comment
        if approval.decision != "phê duyệt":
            with unit_of_work() as session:
                plan_service.record_refusal(session, plan_id, actor=actor, approver=approver,
                                            comment=comment)
            logger.warning("plan %s refused by the approver", plan_id)
            create_markdown_artifact(
                key=artifact_key("ban-hanh", plan_id),
                markdown=f"**{name}: không được phê duyệt** — {approver}: {comment}\n\n"
                "Kế hoạch vẫn là dự thảo.",
                description=f"Phê duyệt ban hành {name}",
            )
            return IssueSummary(plan_id=plan_id, number=name, issued=False, approver=approver,
                                comment=comment)
    issued = issue_plan_task(plan_id, actor, approver, comment)
    if "error" in issued:
        return Failed(message=issued["error"])
    summary = IssueSummary(
        plan_id=plan_id, number=name, issued=True, approver=approver, comment=comment,
        requests_issued=issued["requests_issued"],
    )
    if cascade:
        summary.sub_plans_created = cascade_plan_flow(plan_id).created
    approved = f" sau khi {approver} phê duyệt ({comment})" if approver else ""
    create_markdown_artifact(
        key=artifact_key("ban-hanh", plan_id),
        markdown=(
            f"**Đã ban hành {name}**{approved}: {vn_int(summary.requests_issued)} yêu cầu báo "
            f"cáo đã gửi, {vn_int(summary.sub_plans_created)} dự thảo kế hoạch cấp dưới đã tạo."
        ),
        description=f"Ban hành {name}",
    )
    return summary


def _finish_if_issued(plan_id: int, cascade: bool) -> IssueSummary | None:
    """For a plan already issued (a run killed after its issue committed, or run twice):
    cascade what is missing and say so, instead of refusing to issue it again."""
    with unit_of_work() as session:
        plan = session.get(Plan, plan_id)
        live = (PlanState.issued, PlanState.acknowledged, PlanState.submitted)
        if plan is None or plan.status not in live:
            return None
        name = plan.number
    created = cascade_plan_flow(plan_id).created if cascade else 0
    create_markdown_artifact(
        key=artifact_key("ban-hanh", plan_id),
        markdown=f"**{name} đã ban hành trước đó**: không ban hành lại; phân cấp hoàn tất, "
        f"{vn_int(created)} dự thảo kế hoạch cấp dưới mới được tạo.",
        description=f"Ban hành {name}",
    )
    return IssueSummary(plan_id=plan_id, number=name, issued=True, sub_plans_created=created)


@db_task
def cascade_whole_plans(plan_ids: list[int]) -> dict:
    """Several plans' whole subtrees (provinces: their districts and wards) in one
    transaction, each level of every plan written by the same statements: a task that dies
    leaves nothing half done, and its re-run (or the reconcile) writes it all."""
    with db_slot(), unit_of_work() as session:
        _hold(session, *plan_ids)
        r = cascade_service.cascade_plans(session=session, plan_ids=plan_ids)
    return {"created": r.created, "existing": r.existing, "requests_created": r.requests_created}


def cascade_many_run_name() -> str:
    plan_ids = cast("list[int]", run_parameter("plan_ids", []) or [])
    return f"phân cấp {vn_int(len(plan_ids))} kế hoạch"


@flow(name="cascade-many", flow_run_name=cascade_many_run_name, log_prints=True)
def cascade_many_flow(
    plan_ids: list[int], plans_per_run: int = 0, wait_minutes: float = 120.0,
    plans_per_task: int = 0,
) -> dict | State:
    """Phân cấp nhiều kế hoạch (ví dụ kế hoạch của 63 tỉnh), mỗi tác vụ một giao dịch.

    Args:
        plan_ids: Mã các kế hoạch cần phân cấp
        plans_per_run: Khi chạy trên máy chủ: chia thành các lượt chạy con, mỗi lượt bấy nhiêu
            kế hoạch, để nhiều worker cùng làm (0 = tất cả trong lượt này)
        wait_minutes: Số phút chờ các lượt chạy con tối đa; lượt con chưa xong khi đó (hoặc
            mất worker) được coi là chưa hoàn thành, lượt đối soát phân cấp sẽ làm nốt
        plans_per_task: Số kế hoạch mỗi tác vụ (0 = tất cả trong một tác vụ); mỗi tác vụ là
            một giao dịch: tác vụ dừng giữa chừng không để lại gì dở dang
    """
    from prefect.runtime import deployment

    totals = {"created": 0, "existing": 0, "requests_created": 0, "runs": 0}
    not_done: list[str] = []
    if plans_per_run and len(plan_ids) > plans_per_run and deployment.id:
        totals["runs"], not_done = _fan_out(plan_ids, plans_per_run, wait_minutes * 60)
    else:
        size = plans_per_task if plans_per_task > 0 else max(1, len(plan_ids))
        for batch in batched(plan_ids, size):
            part = cascade_whole_plans(batch)
            for key in ("created", "existing", "requests_created"):
                totals[key] += part[key]
    unfinished = (
        f"{vn_int(len(not_done))} lượt phân cấp con không hoàn thành ({'; '.join(not_done)}); "
        "lượt đối soát phân cấp (mỗi giờ, `reconcile-cascades`) sẽ phân cấp nốt"
    )
    create_markdown_artifact(
        key=artifact_key("phan-cap-nhieu", plan_ids[0] if plan_ids else 0, len(plan_ids)),
        markdown=(
            f"Phân cấp {vn_int(len(plan_ids))} kế hoạch: "
            + (f"chia thành {vn_int(totals['runs'])} lượt chạy con"
               + (f"; {unfinished}." if not_done else ".") if totals["runs"] else
               f"tạo mới {vn_int(totals['created'])} kế hoạch cấp dưới, "
               f"{vn_int(totals['existing'])} đã có, "
               f"{vn_int(totals['requests_created'])} yêu cầu báo cáo.")
        ),
        description="Phân cấp nhiều kế hoạch",
    )
    if not_done:
        return Failed(message=unfinished)
    return totals


# a child run a worker has claimed (Pending) starts within seconds; one still Pending after
# this long was claimed by a worker that died before starting it, and nothing else will
PENDING_LIMIT_SECONDS = 180.0


def _fan_out(plan_ids: list[int], per_run: int, wait_seconds: float) -> tuple[int, list[str]]:
    """Start one child run of this deployment per chunk (any worker of the pool picks it up),
    then wait for them, at most ``wait_seconds``; returns the number of runs and those not
    done. A child claimed by a worker that died before starting it (Pending too long) is
    marked Crashed; a running one whose worker died is marked Crashed by the heartbeat
    automation. Either way the cascade is safe to run again: the reconcile finishes it."""
    import time
    from datetime import UTC, datetime

    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.runtime import deployment
    from prefect.states import Crashed

    logger = get_run_logger()
    name = f"cascade-many/{deployment.name}"
    chunks = list(batched(plan_ids, per_run))
    runs = [  # called from a sync flow, run_deployment returns the FlowRun itself
        cast(
            "FlowRun",
            run_deployment(name, parameters={"plan_ids": chunk, "plans_per_run": 0}, timeout=0),
        )
        for chunk in chunks
    ]
    pending = {r.id: "mã kế hoạch " + ", ".join(map(str, chunk))
               for r, chunk in zip(runs, chunks, strict=True)}
    not_done: list[str] = []
    deadline = time.monotonic() + wait_seconds
    with get_client(sync_client=True) as client:
        while pending:
            time.sleep(2)
            for run_id, run_name in list(pending.items()):
                state = client.read_flow_run(run_id).state
                if state is None:
                    continue
                if state.is_final():
                    del pending[run_id]
                    if not state.is_completed():
                        not_done.append(f"{run_name}: {state.name}")
                    continue
                waited = (datetime.now(UTC) - state.timestamp).total_seconds()
                if state.is_pending() and waited > PENDING_LIMIT_SECONDS:
                    logger.warning("child run %s pending for %.0f s: its worker is gone",
                                   run_id, waited)
                    client.set_flow_run_state(run_id, Crashed(
                        message="Worker nhận lượt chạy nhưng không chạy được (đã dừng)"))
                    del pending[run_id]
                    not_done.append(f"{run_name}: Crashed")
            if pending and time.monotonic() > deadline:
                not_done += [f"{n}: chưa xong sau {vn_int(round(wait_seconds / 60))} phút"
                             for n in pending.values()]
                break
    return len(runs), not_done


class CancelSummary(BaseModel):
    plan_id: int
    already_cancelled: bool
    plans_cancelled: int
    requests_cancelled: int
    requests_kept: int
    units_notified: int
    line: str


@db_task
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


@db_task
def plans_needing_cascade() -> list[int]:
    """Live plans with a child committee that has no sub-plan yet."""
    with unit_of_work() as session:
        return cascade_service.plans_needing_cascade(session)


@flow(name="reconcile-cascades", flow_run_name="đối soát phân cấp", log_prints=True)
def reconcile_flow() -> list[int]:
    """Đối soát phân cấp: phân cấp mọi kế hoạch đã ban hành mà cây đơn vị có thay đổi
    (chạy theo lịch, nên cây tự đầy đủ)."""
    needing = plans_needing_cascade()
    for plan_id in needing:
        cascade_plan_flow(plan_id)
    names = ", ".join(plan_label(p) for p in needing) or "không có kế hoạch nào cần phân cấp"
    create_markdown_artifact(
        key=artifact_key("doi-soat-phan-cap"),
        markdown=f"Đã phân cấp lại {vn_int(len(needing))} kế hoạch: {names}",
        description="Đối soát phân cấp",
    )
    return needing

