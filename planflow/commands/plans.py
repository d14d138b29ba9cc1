"""``planflow plan``: plans as documents; ``import`` reads a plan's text into the structure."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planflow.vntext import kind_vi, vn_date

if TYPE_CHECKING:
    from planflow.documents.reading.importer import ImportedPlan

plan_app = typer.Typer(
    help="Kế hoạch, chương trình: nhập văn bản, ban hành, phân cấp, hủy, xuất văn bản.",
    no_args_is_help=True,
)

TIERS_HELP = "3: tỉnh → huyện → xã (đến 30/6/2025); 2: tỉnh → xã (từ 1/7/2025)"


def _tiers(value: int) -> int:
    if value not in (2, 3):
        raise typer.BadParameter(f"phải là 3 hoặc 2, không phải {value}", param_hint="--tiers")
    return value


@plan_app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="văn bản kế hoạch: .txt (UTF-8), .md, .docx hoặc .pdf")
    ],
    as_json: bool = typer.Option(False, "--json", help="in cấu trúc dạng JSON"),
    save: bool = typer.Option(False, "--save", help="lưu thành kế hoạch dự thảo"),
    tiers: int = typer.Option(3, "--tiers", help=TIERS_HELP, callback=_tiers),
) -> None:
    """Đọc văn bản kế hoạch và hiện cấu trúc; với --save, lưu thành kế hoạch dự thảo."""
    from planflow.config.db import create_schema, get_engine, session_scope
    from planflow.documents.reading.importer import import_plan, save_plan

    engine = get_engine()
    create_schema(engine)
    with session_scope(engine) as session:
        imported = import_plan(session=session, text_or_path=file, tiers=tiers)
        plan_id = save_plan(session=session, imported=imported).id if save else None
    if as_json:
        data = imported.to_dict()
        if save:
            data["plan_id"] = plan_id
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    _summary(imported)
    if plan_id is not None:
        typer.echo(f"đã lưu thành kế hoạch {plan_id} (dự thảo)")
        from planflow.documents.reading.importer import GAPS, gaps_of

        if gaps := gaps_of(imported):
            typer.echo("Bản nháp còn thiếu: " + ", ".join(GAPS[g] for g in gaps))


@plan_app.command("cancel")
def cancel(
    plan_id: Annotated[int, typer.Argument(help="kế hoạch cần hủy (kế hoạch cấp dưới hủy theo)")],
    reason: Annotated[str, typer.Option("--reason", help="lý do (gửi đến mọi đơn vị liên quan)")],
    actor: Annotated[str, typer.Option("--actor", help="người hủy")] = "operator",
) -> None:
    """Hủy kế hoạch, kế hoạch cấp dưới và yêu cầu còn mở; báo mỗi đơn vị một lần."""
    from planflow.config.db import create_schema, get_engine, session_scope
    from planflow.services.cancel import cancel_plan

    engine = get_engine()
    create_schema(engine)
    with session_scope(engine) as session:
        result = cancel_plan(session=session, plan_id=plan_id, reason=reason, actor=actor)
    typer.echo(result.line())


def _summary(imported: ImportedPlan) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not console.is_terminal:  # piped or captured: keep long names on one line
        console.width = 200
    d = imported.to_dict()
    issuer = f"{d['issuer'] or '?'} ({d['issuer_code'] or 'chưa xác định'})"
    when = d["issued_on"] or "chưa có ngày"
    kind = {"plan": "kế hoạch", "programme": "chương trình"}.get(d["kind"], d["kind"])
    console.print(
        f"[bold]{d['number'] or 'chưa có số'}[/] {kind} · {issuer} · {d['place']}, {when}"
    )
    console.print(f"{d['title']} ({d['year']})")
    if d["parent_plan"]:
        parent = d["parent_plan"]
        console.print(f"thực hiện {parent['number']} ngày {parent['date']} ({parent['issuer']})")
    blocks = len({a["block"] for a in d["assignments"]})
    resolved = sum(1 for a in d["assignments"] if a["unit_code"])
    console.print(
        f"mục đích {len(d['purpose'])} · mục {len(d['sections'])} · khối {blocks} · "
        f"phân công {len(d['assignments'])} ({resolved} đã xác định đơn vị) · "
        f"nơi nhận {len(d['recipients'])}"
    )
    table = Table("báo cáo", "hạn", "gửi", "mã", "từ", title="chế độ báo cáo")
    for line in d["deadlines"]:
        table.add_row(
            kind_vi(line["report_kind"]),
            line["due_on"],
            line["to_unit"] or "?",
            line["to_unit_code"] or "-",
            "; ".join(line["from_units"]),
        )
    console.print(table)
    signer = d["signer"]
    console.print(f"người ký: {signer['name'] or '?'}, {signer['title'] or '?'}")
    for item in d["unresolved"]:
        console.print(
            f"[yellow]chưa xác định[/] {item['name']!r} ({_where_vi(item['where'])}): "
            f"{item['reason']}"
        )
    for warning in d["warnings"]:
        console.print(f"[yellow]lưu ý[/] {warning}")


def _where_vi(where: str) -> str:
    """Where the import JSON says a name stands ("issuer", "block 10", "deadline"), for an
    officer."""
    if where.startswith("block "):
        return "khối " + where.split(" ", 1)[1]
    return {"issuer": "cơ quan ban hành", "deadline": "chế độ báo cáo"}.get(where, where)


def _mount_render() -> None:
    from planflow.commands.documents import plan_render

    plan_app.command("render")(plan_render)


_mount_render()


def parse_day(value: str | None, option: str) -> date | None:
    """A date as an officer types it: 20/01/2025 or 2025-01-20."""
    if value is None:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise typer.BadParameter(
        f"ngày không hợp lệ: {value!r} (nhập dạng 20/01/2025)", param_hint=option
    )


@plan_app.command("set")
def set_(
    plan_id: Annotated[int, typer.Argument(help="mã kế hoạch (xem planflow status)")],
    number: str | None = typer.Option(None, "--number", help="số, ký hiệu, ví dụ 01/KH-UBND"),
    issued_on: str | None = typer.Option(None, "--issued-on", help="ngày ban hành, 20/01/2025"),
    signer: str | None = typer.Option(None, "--signer", help="họ tên người ký"),
    signer_title: str | None = typer.Option(
        None, "--signer-title", help="chức vụ người ký, ví dụ 'KT. CHỦ TỊCH PHÓ CHỦ TỊCH'"
    ),
) -> None:
    """Nhập số, ngày ban hành, người ký của một kế hoạch dự thảo trước khi ban hành."""
    from planflow.config.db import create_schema, get_engine, session_scope
    from planflow.services import plans as plan_service
    from planflow.states import issuable_problems

    day = parse_day(issued_on, "--issued-on")
    if all(v is None for v in (number, day, signer, signer_title)):
        raise typer.BadParameter(
            "nhập ít nhất một trong --number, --issued-on, --signer, --signer-title",
            param_hint="plan set",
        )
    engine = get_engine()
    create_schema(engine)
    with session_scope(engine) as session:
        plan = plan_service.set_details(
            session,
            plan_id,
            number=number,
            issued_on=day,
            signer_name=signer,
            signer_title=signer_title,
        )
        problems = issuable_problems(session, plan)
        when = vn_date(plan.issued_on) if plan.issued_on else "chưa có ngày"
        signed = ", ".join(x for x in (plan.signer_name, plan.signer_title) if x) or "chưa có"
        typer.echo(
            f"Kế hoạch {plan_id}: số {plan.number or 'chưa có'}, ngày ban hành {when}, "
            f"người ký {signed}"
        )
    if problems:
        typer.echo(f"Chưa thể ban hành, còn thiếu: {'; '.join(problems)}")
    else:
        typer.echo(f"Có thể ban hành: planflow plan issue {plan_id}")
