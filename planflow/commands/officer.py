"""The officer's steps from the command line, each running the same Prefect flow as the UI:
in local mode, or recorded on the server in PREFECT_API_URL when it is set."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import typer

from planflow.commands.plans import parse_day, plan_app
from planflow.states import PlanflowError
from planflow.vntext import vn_int

outbox_app = typer.Typer(help="Thông báo chờ gửi (hàng đợi gửi đi).", no_args_is_help=True)


def run_flow(flow: Any, what: str, **params: Any) -> Any:
    """Run ``flow`` here and return its result; a failed run becomes one line naming why."""
    from planflow.flows.runtime import local_mode, where

    typer.echo(f"{what} {where()} …")
    with local_mode():
        state = flow(**params, return_state=True)
    if state.is_completed():
        return state.result()
    error = state.result(raise_on_failure=False)
    if isinstance(error, PlanflowError):
        raise error
    raise PlanflowError(state.message or f"lượt chạy {flow.name} không hoàn thành")


def _now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"thời điểm không hợp lệ: {value!r} (ví dụ 2025-05-31T08:00)", param_hint="--now"
        ) from None
    if moment.tzinfo is None:
        from planflow.models.time import local_tz

        moment = moment.replace(tzinfo=local_tz())
    return moment


@plan_app.command("issue")
def issue(
    plan_id: int = typer.Argument(help="mã kế hoạch (xem planflow status)"),
    number: str | None = typer.Option(None, "--number", help="số, ký hiệu, nếu chưa nhập"),
    issued_on: str | None = typer.Option(None, "--issued-on", help="ngày ban hành, 20/01/2025"),
    signer: str | None = typer.Option(None, "--signer", help="họ tên người ký"),
    signer_title: str | None = typer.Option(None, "--signer-title", help="chức vụ người ký"),
    actor: str = typer.Option("văn thư", "--actor", help="người thực hiện, ghi vào nhật ký"),
    cascade: bool = typer.Option(True, "--cascade/--no-cascade", help="phân cấp ngay"),
) -> None:
    """Ban hành một kế hoạch dự thảo (luồng issue-plan), rồi phân cấp xuống cấp dưới."""
    from planflow.flows.plans import issue_plan_flow

    summary = run_flow(
        issue_plan_flow,
        f"Ban hành kế hoạch {plan_id}",
        plan_id=plan_id,
        actor=actor,
        number=number,
        issued_on=parse_day(issued_on, "--issued-on"),
        signer=signer,
        signer_title=signer_title,
        cascade=cascade,
    )
    typer.echo(
        f"Đã ban hành {summary.number}: {vn_int(summary.requests_issued)} yêu cầu báo cáo, "
        f"{vn_int(summary.sub_plans_created)} dự thảo kế hoạch cấp dưới"
    )


@plan_app.command("cascade")
def cascade(
    plan_id: int = typer.Argument(help="mã kế hoạch đã ban hành"),
    units_per_task: int = typer.Option(2000, help="số đơn vị tối đa mỗi tác vụ"),
) -> None:
    """Phân cấp một kế hoạch đã ban hành (luồng cascade-plan); chạy lại không tạo trùng."""
    from planflow.flows.plans import cascade_plan_flow

    s = run_flow(
        cascade_plan_flow,
        f"Phân cấp kế hoạch {plan_id}",
        plan_id=plan_id,
        units_per_task=units_per_task,
    )
    typer.echo(
        f"Phân cấp xong: tạo mới {vn_int(s.created)} kế hoạch cấp dưới, {vn_int(s.existing)} "
        f"đã có, {vn_int(s.requests_created)} yêu cầu báo cáo"
    )


def aggregate(
    plan: int = typer.Option(..., "--plan", help="mã kế hoạch cấp trên cùng"),
    kind: str = typer.Option("six_month", "--kind", help="six_month (6 tháng) hoặc annual (năm)"),
    period: str = typer.Option(..., "--period", help="kỳ báo cáo, ví dụ 2025-H1"),
    actor: str = typer.Option("cơ quan thường trực", "--actor", help="cơ quan tổng hợp"),
) -> None:
    """Tổng hợp một kỳ báo cáo từ dưới lên (luồng aggregate-period)."""
    from planflow.flows.reports import aggregate_period_flow
    from planflow.models import ReportKind

    try:
        report_kind = ReportKind(kind)
    except ValueError:
        raise typer.BadParameter(
            f"loại báo cáo không hợp lệ: {kind!r} (six_month hoặc annual)", param_hint="--kind"
        ) from None
    s = run_flow(
        aggregate_period_flow,
        f"Tổng hợp {period} của kế hoạch {plan}",
        plan_id=plan,
        kind=report_kind,
        period=period,
        actor=actor,
    )
    typer.echo(
        f"Tổng hợp xong {period}: {vn_int(s.compiled_units)} đơn vị, "
        f"{vn_int(s.aggregated_requests)} báo cáo; chỉ tiêu đạt {vn_int(s.figures_met)}, "
        f"chưa đạt {vn_int(s.figures_not_met)}, chưa đánh giá được "
        f"{vn_int(s.figures_not_assessable)}"
    )


def sweep(
    now: str | None = typer.Option(
        None, "--now", help="thời điểm coi là bây giờ, ví dụ 2025-05-31T08:00 (giờ Việt Nam)"
    ),
    send: bool = typer.Option(False, "--send", help="gửi luôn các thông báo đến hạn"),
) -> None:
    """Rà soát hằng ngày (luồng daily-sweep): quá hạn, nhắc, báo cáo cấp trên."""
    from planflow.flows.sweep import daily_sweep_flow

    s = run_flow(daily_sweep_flow, "Rà soát", now=_now(now), send=send)
    typer.echo(
        f"Rà soát xong: {vn_int(s.newly_overdue)} yêu cầu mới quá hạn (tổng "
        f"{vn_int(s.overdue_total)}), {vn_int(s.messages_queued)} thông báo xếp hàng, "
        f"đã gửi {vn_int(s.sent)}, thử lại sau {vn_int(s.retried)}, lỗi {vn_int(s.dead)}"
        + (" (ngoài giờ gửi)" if s.quiet_hours else "")
        + (f", tổng hợp lại {vn_int(s.recompiled)} báo cáo tổng hợp" if s.recompiled else "")
    )


@outbox_app.command("send")
def outbox_send(
    now: str | None = typer.Option(None, "--now", help="thời điểm coi là bây giờ"),
) -> None:
    """Gửi các thông báo đến hạn (luồng dispatch-outbox)."""
    from planflow.flows.sweep import dispatch_outbox_flow

    r = run_flow(dispatch_outbox_flow, "Gửi thông báo", now=_now(now))
    typer.echo(
        f"Đã gửi {vn_int(r['sent'])}, thử lại sau {vn_int(r['retried'])}, lỗi {vn_int(r['dead'])}"
        + (" (ngoài giờ gửi: 7:00–21:00)" if r["quiet"] else "")
    )


@outbox_app.command("retry-dead")
def outbox_retry_dead(
    now: str | None = typer.Option(None, "--now", help="thời điểm coi là bây giờ"),
) -> None:
    """Đưa các thông báo gửi lỗi trở lại hàng đợi và gửi lại (luồng retry-dead-messages)."""
    from planflow.flows.sweep import retry_dead_flow

    r = run_flow(retry_dead_flow, "Gửi lại thông báo lỗi", now=_now(now))
    typer.echo(
        f"Đưa lại hàng đợi {vn_int(r['requeued'])} thông báo; đã gửi {vn_int(r['sent'])}, "
        f"lỗi {vn_int(r['dead'])}"
    )


def deploy(
    pool: str = typer.Option("planflow", "--pool", help="tên work pool (loại process)"),
    db_limit: int = typer.Option(4, "--db-limit", help="số tác vụ nặng về CSDL chạy cùng lúc"),
) -> None:
    """Đăng ký mọi deployment vào work pool (tạo nếu chưa có) cho các worker chạy.

    `prefect worker start --pool planflow` trên bao nhiêu máy cũng được."""
    if not os.environ.get("PREFECT_API_URL"):
        raise PlanflowError(
            "chưa đặt PREFECT_API_URL: chạy `prefect server start` rồi đặt "
            "PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    from planflow.flows.deployments import deploy_all

    names = deploy_all(pool=pool, db_limit=db_limit)
    typer.echo(
        f"Đã đăng ký {len(names)} deployment vào work pool {pool!r} "
        f"({os.environ['PREFECT_API_URL']}); giới hạn CSDL: {db_limit} tác vụ cùng lúc"
    )
    for name in names:
        typer.echo(f"  {name}")
    typer.echo(f"Chạy chúng bằng: prefect worker start --pool {pool}")


def register(app: typer.Typer) -> None:
    from planflow.commands.documents import report_app

    report_app.command("aggregate")(aggregate)
    app.command("sweep")(sweep)
    app.command("deploy")(deploy)
    app.add_typer(outbox_app, name="outbox")
