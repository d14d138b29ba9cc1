"""Flows that record what units send and aggregate a period upward."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from prefect import flow
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field
from sqlmodel import col, select

from planflow.config.db import batched
from planflow.flows.runtime import (
    artifact_key,
    db_slot,
    db_task,
    plan_label,
    run_parameter,
    unit_of_work,
)
from planflow.models import Plan, ReportKind
from planflow.models.base import stored_ids
from planflow.services import aggregation
from planflow.services import reporting as reporting_service
from planflow.vntext import kind_vi, vn_int, vn_number


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


@flow(name="record-acknowledgement", flow_run_name="tiếp nhận yêu cầu {request_id}")
def record_acknowledgement_flow(
    request_id: int, actor: str, received_at: datetime | None = None
) -> str:
    """Ghi nhận đơn vị đã tiếp nhận yêu cầu báo cáo (ví dụ nhận được phiếu báo nhận giấy).

    Args:
        request_id: Mã yêu cầu báo cáo
        actor: Người hoặc đơn vị tiếp nhận, ghi vào nhật ký
        received_at: Thời điểm tiếp nhận (để trống: bây giờ)
    """
    with unit_of_work() as session:
        row = reporting_service.acknowledge(
            session=session, request_id=request_id, actor=actor, at=received_at
        )
        return row.status


@flow(name="record-submission", flow_run_name="nhận báo cáo của yêu cầu {request_id}")
def record_submission_flow(
    request_id: int,
    figures: dict[str, FigureInput],
    actor: str,
    narrative: dict[str, str] | None = None,
    unit_code: str | None = None,
    period: str | None = None,
    received_at: datetime | None = None,
) -> str:
    """Ghi nhận báo cáo của một đơn vị: kiểm tra số liệu, hoặc từ chối nêu rõ trường và lý do.

    Args:
        request_id: Mã yêu cầu báo cáo
        figures: Số liệu theo mã chỉ tiêu (nữ, nam, tổng số; tử số, mẫu số)
        actor: Người nhập, ghi vào nhật ký
        narrative: Phần lời theo mục (không bắt buộc)
        unit_code: Mã đơn vị gửi (để đối chiếu, không bắt buộc)
        period: Kỳ báo cáo (để đối chiếu, ví dụ 2025-H1)
        received_at: Ngày nhận công văn giấy (để trống: bây giờ); quyết định nộp muộn hay không
    """
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


@flow(name="return-report", flow_run_name="trả lại báo cáo {request_id}")
def return_report_flow(request_id: int, reason: str, actor: str) -> str:
    """Trả lại báo cáo đã nộp để đơn vị sửa, nêu lý do.

    Args:
        request_id: Mã yêu cầu báo cáo
        reason: Lý do trả lại (bắt buộc)
        actor: Người trả lại, ghi vào nhật ký
    """
    with unit_of_work() as session:
        row = reporting_service.return_report(
            session=session, request_id=request_id, reason=reason, actor=actor
        )
        return row.status


@db_task
def child_plans(plan_id: int) -> list[int]:
    with unit_of_work() as session:
        return stored_ids(
            session.exec(
                select(col(Plan.id)).where(col(Plan.parent_id) == plan_id).order_by(col(Plan.id))
            ).all()
        )


@db_task
def aggregate_subtree(
    plan_id: int, kind: ReportKind, period: str, actor: str, only_top: bool
) -> tuple[list[dict[str, Any]], int]:
    with db_slot(), unit_of_work() as session:
        result = aggregation.aggregate_period(
            session=session, plan_id=plan_id, kind=kind, period=period, actor=actor,
            only_top=only_top,
        )
        return _nodes(result), result.aggregated


@db_task
def aggregate_trees(
    plan_ids: list[int], kind: ReportKind, period: str, actor: str
) -> tuple[list[dict[str, Any]], int]:
    """Several plans' trees in one transaction, each level across all of them at once."""
    with db_slot(), unit_of_work() as session:
        result = aggregation.aggregate_many(
            session=session, plan_ids=plan_ids, kind=kind, period=period, actor=actor
        )
        return _nodes(result), result.aggregated


def _nodes(result: aggregation.AggregationResult) -> list[dict[str, Any]]:
    return [n.__dict__ | {"rate": n.rate} for n in result.nodes]


def aggregate_run_name() -> str:
    return f"tổng hợp {run_parameter('period', '')} {plan_label(run_parameter('plan_id'))}"


@flow(name="aggregate-period", flow_run_name=aggregate_run_name, log_prints=True)
def aggregate_period_flow(
    plan_id: int, kind: ReportKind = ReportKind.six_month, period: str = "2025-H1",
    actor: str = "cơ quan thường trực",
) -> AggregationSummary:
    """Tổng hợp một kỳ báo cáo từ dưới lên: mỗi nhánh cấp dưới một tác vụ, rồi cấp trên cùng.

    Args:
        plan_id: Mã kế hoạch cấp trên cùng cần tổng hợp
        kind: Loại báo cáo: six_month (6 tháng) hoặc annual (năm)
        period: Kỳ báo cáo, ví dụ 2025-H1 (6 tháng đầu năm) hoặc 2025
        actor: Cơ quan tổng hợp, ghi vào nhật ký
    """
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


class AggregateManySummary(BaseModel):
    plan_ids: list[int]
    kind: ReportKind
    period: str
    tasks: int
    compiled_units: int
    aggregated_requests: int


def aggregate_many_run_name() -> str:
    plan_ids = cast("list[int]", run_parameter("plan_ids", []) or [])
    return f"tổng hợp {run_parameter('period', '')} của {vn_int(len(plan_ids))} kế hoạch"


@flow(name="aggregate-many", flow_run_name=aggregate_many_run_name, log_prints=True)
def aggregate_many_flow(
    plan_ids: list[int], kind: ReportKind = ReportKind.six_month, period: str = "2025-H1",
    actor: str = "cơ quan thường trực", plans_per_task: int = 0,
) -> AggregateManySummary:
    """Tổng hợp một kỳ báo cáo của nhiều kế hoạch (ví dụ kế hoạch của 63 tỉnh): mỗi cấp của
    mọi kế hoạch được tổng hợp cùng một lúc.

    Args:
        plan_ids: Mã các kế hoạch cấp trên cùng cần tổng hợp
        kind: Loại báo cáo: six_month (6 tháng) hoặc annual (năm)
        period: Kỳ báo cáo, ví dụ 2025-H1 (6 tháng đầu năm) hoặc 2025
        actor: Cơ quan tổng hợp, ghi vào nhật ký
        plans_per_task: Số kế hoạch mỗi tác vụ, mỗi tác vụ một giao dịch (0 = tất cả trong
            một tác vụ)
    """
    size = plans_per_task if plans_per_task > 0 else max(1, len(plan_ids))
    nodes: list[dict] = []
    aggregated = tasks = 0
    for batch in batched(plan_ids, size):
        part, moved = aggregate_trees(batch, kind, period, actor)
        nodes += part
        aggregated += moved
        tasks += 1
    publish_many(plan_ids, kind, period, nodes)
    return AggregateManySummary(
        plan_ids=plan_ids, kind=kind, period=period, tasks=tasks, compiled_units=len(nodes),
        aggregated_requests=aggregated,
    )


def publish_many(plan_ids: list[int], kind, period, nodes: list[dict]) -> None:
    """What the officer sees: per plan given, who reported to its issuer, late or missing."""
    tops = [n for n in nodes if n["plan_id"] in set(plan_ids)]
    create_table_artifact(
        key=artifact_key("tinh-hinh-nop-nhieu", plan_ids[0] if plan_ids else 0, len(plan_ids),
                         kind, period),
        table=[
            completeness_row(n) for n in sorted(tops, key=lambda n: n["unit"])
        ],
        description=f"Tình hình nộp {kind_vi(kind)} kỳ {period} của "
        f"{vn_int(len(plan_ids))} kế hoạch (đơn vị ban hành từng kế hoạch): đúng hạn, muộn, "
        f"chưa nộp; {vn_int(len(nodes))} đơn vị đã tổng hợp.",
    )


STATUS_VI = {"met": "đạt", "not met": "chưa đạt", "cannot be assessed": "chưa đánh giá được",
             "no target": "không có chỉ tiêu"}


def completeness_row(n: dict) -> dict[str, str]:
    """One committee's line of a completeness table: expected, on time, late, missing, rate."""
    return {
        "Đơn vị": n["unit"],
        "Phải nộp": vn_int(n["expected"]),
        "Đúng hạn": vn_int(n["on_time"]),
        "Muộn": vn_int(n["late"]),
        "Chưa nộp": vn_int(n["missing"]),
        "Tỷ lệ đã nộp": vn_rate(n["expected"], n["rate"]),
    }


def vn_rate(expected: int, rate: float) -> str:
    """48.08 → '48,08 %'; '–' where nothing was expected."""
    return "–" if not expected else f"{vn_number(round(rate, 2))} %"


def publish_aggregation(plan_id, kind, period, nodes: list[dict], figures) -> None:
    """What the officer sees: who reported, late or missing per committee, and the figures."""
    direct = [n for n in nodes if n["plan_id"] == plan_id]
    children = sorted((n for n in nodes if n["plan_id"] != plan_id), key=lambda n: n["unit"])
    label = plan_label(plan_id)
    create_table_artifact(
        key=artifact_key("tinh-hinh-nop", plan_id, kind, period),
        table=[
            {
                **completeness_row(n),
                "Đơn vị nộp muộn": ", ".join(n["late_units"]),
                "Đơn vị chưa nộp": ", ".join(n["missing_units"]),
            }
            for n in direct + children
        ],
        description=f"Tình hình nộp {kind_vi(kind)} kỳ {period} của {label}: đúng hạn, "
        "muộn, chưa nộp.",
    )
    create_table_artifact(
        key=artifact_key("so-lieu-tong-hop", plan_id, kind, period),
        table=[
            {
                "Mã": f.code,
                "Nữ": vn_int(f.female),
                "Nam": vn_int(f.male),
                "Tổng số": vn_int(f.total),
                "Tử số": vn_int(f.numerator),
                "Mẫu số": vn_int(f.denominator),
                "Giá trị": vn_number(f.value),
                "Chỉ tiêu năm": vn_number(f.target),
                "Đánh giá": STATUS_VI.get(f.status, f.status),
                # last: the long names would push the figures out of the UI's view
                "Tên chỉ tiêu": f.name,
            }
            for f in figures
        ],
        description=f"Số liệu tổng hợp {kind_vi(kind)} kỳ {period} của {label}, so với "
        "chỉ tiêu.",
    )
