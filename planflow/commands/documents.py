"""``planflow report`` (render, form, import) and ``plan_render``, which ``planflow plan`` mounts
as ``plan render``: documents out of the database, and filled Excel forms back into it."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from planflow.documents.writing.render import Format
from planflow.models.base import must_get


class CompiledKind(StrEnum):
    """The report kinds a committee compiles (the values of ``ReportKind``)."""

    six_month = "six_month"
    annual = "annual"
    ad_hoc = "ad_hoc"


report_app = typer.Typer(
    help="Báo cáo: báo cáo tổng hợp, biểu mẫu Excel cho đơn vị, nhận biểu mẫu đã điền.",
    no_args_is_help=True,
)

FORMAT_HELP = "docx (Word, thể thức Nghị định 30), html hoặc md"
OUT_HELP = "nơi ghi tệp (mặc định: trong thư mục dữ liệu)"
FORCE_HELP = "ghi đè tệp --out nếu đã có (không bao giờ ghi đè cơ sở dữ liệu)"


def plan_render(
    plan_id: Annotated[
        int, typer.Argument(help="mã kế hoạch (kế hoạch cấp dưới xuất thành dự thảo)")
    ],
    fmt: Annotated[Format, typer.Option("--format", help=FORMAT_HELP)] = Format.docx,
    out: Annotated[Path | None, typer.Option("--out", help=OUT_HELP)] = None,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Xuất kế hoạch thành văn bản hành chính (thể thức theo Nghị định 30/2020/NĐ-CP)."""
    from sqlmodel import Session

    from planflow.config.db import create_schema, get_engine
    from planflow.documents.writing.render import write_plan

    engine = get_engine()
    create_schema(engine)
    with Session(engine) as session:
        path = write_plan(session, plan_id=plan_id, fmt=fmt, out=out, force=force)
    typer.echo(f"đã ghi {path}")


@report_app.command("render")
def report_render(
    plan_id: Annotated[
        int, typer.Argument(help="kế hoạch mà cơ quan ban hành đã tổng hợp báo cáo")
    ],
    kind: Annotated[
        CompiledKind, typer.Option("--kind", help="six_month (6 tháng) hoặc annual (năm)")
    ] = (
        CompiledKind.six_month
    ),
    period: Annotated[str, typer.Option("--period", help="2025-H1 (6 tháng) hoặc 2025 (năm)")] = "",
    fmt: Annotated[Format, typer.Option("--format", help=FORMAT_HELP)] = Format.docx,
    out: Annotated[Path | None, typer.Option("--out", help=OUT_HELP)] = None,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Xuất báo cáo tổng hợp: đơn vị đã báo cáo (đúng hạn, muộn, chưa gửi) và các chỉ tiêu."""
    from sqlmodel import Session

    from planflow.config.db import create_schema, get_engine
    from planflow.documents.writing.render import write_report
    from planflow.models import ReportKind, period_for
    from planflow.services.plans import get_plan

    engine = get_engine()
    create_schema(engine)
    report_kind = ReportKind(kind.value)
    with Session(engine) as session:
        period = period or period_for(report_kind, get_plan(session, plan_id).year)
        path = write_report(
            session, plan_id=plan_id, kind=report_kind, period=period, fmt=fmt, out=out,
            force=force,
        )
    typer.echo(f"đã ghi {path}")


@report_app.command("form")
def report_form(
    request_id: Annotated[int, typer.Argument(help="yêu cầu báo cáo mà đơn vị trả lời")],
    out: Annotated[Path | None, typer.Option("--out", help=OUT_HELP)] = None,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Tạo biểu mẫu Excel để đơn vị điền cho một yêu cầu báo cáo."""
    from sqlmodel import Session

    from planflow.config.db import create_schema, get_engine
    from planflow.documents.writing.excel_form import write_form

    engine = get_engine()
    create_schema(engine)
    with Session(engine) as session:
        path = write_form(session, request_id=request_id, out=out, force=force)
    typer.echo(f"đã ghi {path}")


@report_app.command("import")
def report_import(
    file: Annotated[Path, typer.Argument(help="biểu mẫu đã điền (.xlsx) lấy từ `report form`")],
    actor: Annotated[
        str | None, typer.Option("--actor", help="người nộp (mặc định: đơn vị)")
    ] = None,
) -> None:
    """Nộp biểu mẫu Excel đã điền; biểu mẫu bị từ chối không thay đổi gì và lỗi nêu rõ ô."""
    from planflow.config.db import create_schema, get_engine, session_scope
    from planflow.documents.reading.excel_form import import_form
    from planflow.models import OrgUnit, ReportRequest

    engine = get_engine()
    create_schema(engine)
    with session_scope(engine) as session:
        report = import_form(session, path=file, actor=actor)
        request = must_get(session, ReportRequest, report.request_id)
        unit = must_get(session, OrgUnit, report.unit_id)
        from planflow.vntext import kind_vi

        when = "muộn" if request.late else "đúng hạn"
        line = (
            f"đã nhận {file.name}: yêu cầu {request.id} ({unit.label}, "
            f"{kind_vi(report.kind)} {report.period}) nộp {when}"
        )
    typer.echo(line)


__all__ = ["plan_render", "report_app"]
