"""Operator commands: status, serve, demo."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table


def status(as_json: bool = typer.Option(False, "--json", help="in dạng JSON")) -> None:
    """Số kế hoạch và yêu cầu báo cáo theo trạng thái, theo từng cây kế hoạch."""
    from sqlmodel import Session

    from planflow.config.db import create_schema, get_engine
    from planflow.services.status import status_summary

    engine = get_engine()
    create_schema(engine)
    with Session(engine) as session:
        summary = status_summary(session)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    console = Console()
    if not summary:
        console.print("chưa có kế hoạch nào: chạy `planflow demo` hoặc "
                      "`planflow plan import TỆP --save`")
        return
    from planflow.models.enums import State
    from planflow.states.machine import STATE_VI
    from planflow.vntext import kind_vi

    for tree in summary:
        table = Table(title=f"Kế hoạch {tree['plan_id']} {tree['number'] or '(chưa có số)'} "
                      f"{tree['issuer']} {tree['year']}: "
                      f"{STATE_VI[State(tree['status'])]}")
        table.add_column("")
        states = ["drafted", "issued", "acknowledged", "submitted", "aggregated", "cancelled"]
        for state in states:
            table.add_column(STATE_VI[State(state)], justify="right")
        table.add_row("kế hoạch", *(str(tree["plans_by_state"].get(s, 0)) for s in states))
        for kind, by_state in sorted(tree["requests_by_kind_and_state"].items()):
            table.add_row(f"yêu cầu: {kind_vi(kind)}",
                          *(str(by_state.get(s, 0)) for s in states))
        console.print(table)
        for c in tree["stale_compiled_reports"]:
            console.print(f"Báo cáo tổng hợp {c['kind']} kỳ {c['period']} của kế hoạch "
                          f"{c['plan_id']} chưa cập nhật: có báo cáo đã tính vào bị trả lại; "
                          "lượt rà soát hằng ngày sẽ tổng hợp lại")


def serve() -> None:
    """Đăng ký mọi deployment với máy chủ Prefect ở PREFECT_API_URL và phục vụ chúng."""
    import os

    from planflow.flows.runtime import prefect_env_defaults

    if not os.environ.get("PREFECT_API_URL"):
        raise typer.BadParameter(
            "chưa đặt PREFECT_API_URL: chạy `prefect server start` rồi đặt "
            "PREFECT_API_URL=http://127.0.0.1:4200/api", param_hint="biến môi trường"
        )
    prefect_env_defaults()
    from planflow.flows.deployments import serve_all

    serve_all()


def demo(
    seed: int = typer.Option(2025, help="hạt giống ngẫu nhiên cho hành vi mô phỏng của đơn vị"),
    year: int = typer.Option(
        2025, "--year", min=2025, max=2100,
        help="2025: năm sắp xếp đơn vị (ba cấp, rồi hai cấp); năm sau đó: kế hoạch theo mô hình "
        "hai cấp ngay từ đầu (dự thảo 2025 đổi năm)",
    ),
) -> None:
    """Chạy thử cả chu trình trên cơ sở dữ liệu đã cấu hình (mặc định: tệp SQLite cục bộ)."""
    if year == 2025:
        from planflow.demo import run_demo

        run_demo(seed=seed)
        return
    from planflow.demo_two_tiers import run_demo_two_tiers

    run_demo_two_tiers(year=year, seed=seed)


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("serve")(serve)
    app.command("demo")(demo)
