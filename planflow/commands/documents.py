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
    help="Reports as documents: compiled reports, Excel forms for units, filled forms back.",
    no_args_is_help=True,
)

FORMAT_HELP = "docx (Word, Decree 30 layout), html or md"
OUT_HELP = "where to write the file (default: under the data directory)"
FORCE_HELP = "overwrite the --out file if it exists (never the database)"


def plan_render(
    plan_id: Annotated[int, typer.Argument(help="the plan's id (a sub-plan renders as a draft)")],
    fmt: Annotated[Format, typer.Option("--format", help=FORMAT_HELP)] = Format.docx,
    out: Annotated[Path | None, typer.Option("--out", help=OUT_HELP)] = None,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Render a plan as an administrative document (Decree 30/2020/NĐ-CP layout)."""
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
    plan_id: Annotated[int, typer.Argument(help="the plan whose issuer compiled the report")],
    kind: Annotated[CompiledKind, typer.Option("--kind", help="six_month or annual")] = (
        CompiledKind.six_month
    ),
    period: Annotated[str, typer.Option("--period", help="2025-H1 (six_month) or 2025")] = "",
    fmt: Annotated[Format, typer.Option("--format", help=FORMAT_HELP)] = Format.docx,
    out: Annotated[Path | None, typer.Option("--out", help=OUT_HELP)] = None,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Render a compiled report: who reported (on time, late, missing) and the indicators."""
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
    request_id: Annotated[int, typer.Argument(help="the report request the unit answers")],
    out: Annotated[Path | None, typer.Option("--out", help=OUT_HELP)] = None,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Write the Excel form a unit fills in for one report request."""
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
    file: Annotated[Path, typer.Argument(help="a filled form (.xlsx) from `report form`")],
    actor: Annotated[
        str | None, typer.Option("--actor", help="who submits (default: the unit)")
    ] = None,
) -> None:
    """Submit a filled Excel form; a refused form changes nothing and the error names the cell."""
    from planflow.config.db import create_schema, get_engine, session_scope
    from planflow.documents.reading.excel_form import import_form
    from planflow.models import OrgUnit, ReportRequest

    engine = get_engine()
    create_schema(engine)
    with session_scope(engine) as session:
        report = import_form(session, path=file, actor=actor)
        request = must_get(session, ReportRequest, report.request_id)
        unit = must_get(session, OrgUnit, report.unit_id)
        from planflow.states.machine import KIND_VI

        when = "muộn" if request.late else "đúng hạn"
        line = (
            f"đã nhận {file.name}: yêu cầu {request.id} ({unit.label}, "
            f"{KIND_VI.get(str(report.kind), str(report.kind))} {report.period}) nộp {when}"
        )
    typer.echo(line)


__all__ = ["plan_render", "report_app"]
