"""The ``planflow`` command line. Errors print one line and exit non-zero, never a traceback."""

from __future__ import annotations

import re
import sys
from typing import Any

import typer

from planflow.errors import PlanflowError, one_line

app = typer.Typer(
    name="planflow",
    help="planflow: ban hành, phân cấp, báo cáo và tổng hợp kế hoạch của cơ quan nhà nước. "
    "Lỗi in ra một dòng; thêm --debug ở bất kỳ đâu để xem chi tiết.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Cơ sở dữ liệu.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("init")
def db_init() -> None:
    """Tạo hoặc nâng cấp các bảng trong PLANFLOW_DATABASE_URL (mặc định: SQLite)."""
    db_upgrade("head")


@db_app.command("upgrade")
def db_upgrade(
    revision: str = typer.Argument("head", help="bản nâng cấp cần đạt (mặc định: mới nhất)"),
) -> None:
    """Chạy các bản nâng cấp cơ sở dữ liệu đến REVISION trên PLANFLOW_DATABASE_URL."""
    from planflow.config.db import get_engine, upgrade_schema
    from planflow.config.settings import get_settings

    before, after = upgrade_schema(get_engine(), revision)
    where = _safe_url(get_settings().resolved_database_url)
    if before == after:
        typer.echo(f"cơ sở dữ liệu sẵn sàng: {where} (đã ở phiên bản {after}, không cần làm gì)")
    else:
        typer.echo(f"cơ sở dữ liệu sẵn sàng: {where} (đã nâng từ phiên bản "
                   f"{before or 'trống'} lên {after})")


@db_app.command("revision")
def db_revision(
    message: str = typer.Option(..., "-m", "--message", help="bản nâng cấp thay đổi gì"),
) -> None:
    """(cho lập trình viên) Viết bản nâng cấp mới từ chênh lệch giữa mô hình và bản mới nhất.

    Chênh lệch được lấy so với một cơ sở dữ liệu SQLite tạm đã nâng lên bản mới nhất, nên kết
    quả không phụ thuộc cơ sở dữ liệu thật; hãy đọc và sửa tệp được viết ra.
    """
    import tempfile
    from pathlib import Path

    from alembic import command

    from planflow.config.db import alembic_config, get_engine, upgrade_schema

    with tempfile.TemporaryDirectory(prefix="planflow-revision-") as folder:
        engine = get_engine(f"sqlite:///{Path(folder) / 'head.db'}")
        upgrade_schema(engine)
        with engine.connect() as conn:
            scripts = command.revision(alembic_config(conn), message=message, autogenerate=True)
        engine.dispose()
    for script in scripts if isinstance(scripts, list) else [scripts]:
        if script is not None:
            typer.echo(f"đã viết {script.path}")


@app.command("states")
def states(mermaid: bool = typer.Option(False, "--mermaid", help="in sơ đồ Mermaid")) -> None:
    """In vòng đời của kế hoạch và yêu cầu báo cáo, dạng bảng hoặc sơ đồ Mermaid."""
    from planflow.states.diagram import mermaid as draw
    from planflow.states.machine import ENTITY_VI, STATE_VI, TRIGGER_VI
    from planflow.states.tables import MOVES

    for entity, moves in MOVES.items():
        typer.echo(f"## Vòng đời: {ENTITY_VI.get(entity, entity)}\n")
        if mermaid:
            typer.echo("```mermaid\n" + draw(entity) + "\n```\n")
            continue
        for move in moves:
            guards = f"  [{', '.join(move.guards)}]" if move.guards else ""
            sources = ", ".join(STATE_VI[s] for s in move.sources)
            step = TRIGGER_VI.get(move.trigger, move.trigger)
            typer.echo(f"  {step:<12} {sources} -> {STATE_VI[move.dest]}{guards}")
        typer.echo("")


def _safe_url(url: str) -> str:
    """A database URL with any password masked, fit for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _mount() -> None:
    """Attach the command groups that live in planflow.commands."""
    from planflow.commands import register

    register(app)


# typer's and click's usage messages are English and made in several places (typer's own copy
# of click, click, pydantic's coercion): each known shape, rewritten in Vietnamese
USAGE_VI = [(re.compile(pattern), vietnamese) for pattern, vietnamese in (
    (r"^Invalid value for (.+?): ", r"giá trị không hợp lệ cho \1: "),
    (r"^Invalid value: ", "giá trị không hợp lệ: "),
    (r"^Missing argument (.+?)\.", r"thiếu tham số \1."),
    (r"^Missing option (.+?)\.", r"thiếu tùy chọn \1."),
    (r"^Missing parameter:? ?", "thiếu tham số "),
    (r"^Missing command\.?", "thiếu lệnh"),
    (r"^No such option:? (\S+?)\.?( |$)", r"không có tùy chọn \1\2"),
    (r"\(Possible options: (.+)\)", r"(có: \1)"),
    (r"Did you mean (.+)\?", r"có phải \1?"),
    (r"^No such command (.+?)\.", r"không có lệnh \1."),
    (r"^Got unexpected extra arguments?(?:\(s\))? \((.*)\)", r"thừa tham số (\1)"),
    (r"^Option (\S+) requires (?:an argument|\d+ arguments)\.?", r"tùy chọn \1 cần giá trị"),
    (r"^Option (\S+) does not take a value\.?", r"tùy chọn \1 không nhận giá trị"),
    (r"Value (.+) is not a valid (\w+)\.", r"\1 không phải \2 hợp lệ."),
    (r"Input should be a valid integer.*$", "phải là số nguyên"),
    (r"Input should be a valid (?:number|float).*$", "phải là số"),
    (r"Input should be a valid date.*$", "phải là ngày"),
    (r"Input should be a valid boolean.*$", "phải là có hoặc không (true/false)"),
    (r"(.+) is not one of (.+)\.$", r"\1 không thuộc các giá trị \2."),
)]


# the frame of typer's help pages (panel titles, the usage line, the --help line, the notes after
# an option), which typer 0.29 and its copy of click print in English
HELP_FRAME_VI = {
    "ARGUMENTS_PANEL_TITLE": "Tham số",
    "OPTIONS_PANEL_TITLE": "Tùy chọn",
    "COMMANDS_PANEL_TITLE": "Lệnh",
    "ERRORS_PANEL_TITLE": "Lỗi",
    "ABORTED_TEXT": "Đã dừng.",
    "RICH_HELP": "Xem [blue]'{command_path} {help_option}'[/] để biết cách dùng.",
    "DEFAULT_STRING": "[mặc định: {}]",
    "ENVVAR_STRING": "[biến môi trường: {}]",
    "REQUIRED_LONG_STRING": "[bắt buộc]",
    "DEPRECATED_STRING": "(không dùng nữa) ",
}
USAGE_PREFIX_VI = "Cách dùng: "
HELP_OPTION_VI = "Hiện hướng dẫn này rồi thoát."
USAGE_PIECES_VI = (("[OPTIONS]", "[TÙY CHỌN]"), ("COMMAND [ARGS]...", "LỆNH [THAM SỐ]..."))


def help_in_vietnamese() -> None:
    """Make typer's help pages speak Vietnamese: its panel titles are module constants read when
    a page is drawn, the usage prefix and the --help line are defaults in its copy of click."""
    from typer import rich_utils
    from typer._click import core, formatting

    for name, text in HELP_FRAME_VI.items():
        setattr(rich_utils, name, text)
    write_usage = formatting.HelpFormatter.write_usage
    if getattr(write_usage, "vietnamese", False):
        return

    def usage_vi(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        for english, vietnamese in USAGE_PIECES_VI:
            args = args.replace(english, vietnamese)
        write_usage(self, prog, args, USAGE_PREFIX_VI if prefix is None else prefix)

    get_help_option = core.Command.get_help_option

    def help_option_vi(self: Any, ctx: Any) -> Any:
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = HELP_OPTION_VI
        return option

    usage_vi.vietnamese = True  # type: ignore[attr-defined]
    formatting.HelpFormatter.write_usage = usage_vi  # type: ignore[method-assign]
    core.Command.get_help_option = help_option_vi  # type: ignore[method-assign]


def usage_line(exc: Exception) -> str:
    """A click/typer usage error as one Vietnamese line, naming the command's --help."""
    message = " ".join(str(getattr(exc, "format_message", lambda: exc)()).split())
    for pattern, vietnamese in USAGE_VI:
        message = pattern.sub(vietnamese, message)
    ctx = getattr(exc, "ctx", None)
    hint = f" (xem: {ctx.command_path} --help)" if ctx is not None else ""
    return f"lỗi: {message}{hint}"


def main() -> None:
    """Entry point: run the app, turning planflow errors into one line on stderr."""
    from planflow.flows import prefect_env_defaults  # imports no Prefect

    debug = "--debug" in sys.argv[1:]
    if debug:  # anywhere on the line: `planflow --debug plan import X` or at the end
        sys.argv.remove("--debug")
    # before Prefect is imported: its settings are read once. A command's failure is the one
    # line below, not Prefect's logged traceback (--debug shows all); `serve` keeps INFO
    serving = "serve" in sys.argv[1:2]
    prefect_env_defaults(console=None if debug or serving else "CRITICAL")
    _mount()
    help_in_vietnamese()
    try:
        app(standalone_mode=False)
    except PlanflowError as exc:
        if debug:
            raise
        typer.echo(one_line(exc), err=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("đã dừng", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors and anything unexpected: still one line
        if hasattr(exc, "format_message"):  # click/typer usage errors
            typer.echo(usage_line(exc), err=True)
            sys.exit(getattr(exc, "exit_code", 2))
        if debug:
            raise
        typer.echo(one_line(exc), err=True)
        sys.exit(1)
