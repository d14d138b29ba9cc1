"""The ``planflow`` command line. Errors print one line and exit non-zero, never a traceback."""

from __future__ import annotations

import sys

import typer

from planflow.errors import PlanflowError, one_line

app = typer.Typer(
    name="planflow",
    help="planflow: issue, cascade, report and aggregate Vietnamese government plans. "
    "Errors print one line; add --debug anywhere for the traceback.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("init")
def db_init() -> None:
    """Create or migrate the tables (idempotent) in PLANFLOW_DATABASE_URL (default: SQLite)."""
    db_upgrade("head")


@db_app.command("upgrade")
def db_upgrade(
    revision: str = typer.Argument("head", help="the migration to reach (default: the newest)"),
) -> None:
    """Run the migrations up to REVISION on PLANFLOW_DATABASE_URL."""
    from planflow.config.db import get_engine, upgrade_schema
    from planflow.config.settings import get_settings

    before, after = upgrade_schema(get_engine(), revision)
    where = _safe_url(get_settings().resolved_database_url)
    if before == after:
        typer.echo(f"database ready: {where} (at migration {after}, nothing to do)")
    else:
        typer.echo(f"database ready: {where} (migrated {before or 'empty'} -> {after})")


@db_app.command("revision")
def db_revision(
    message: str = typer.Option(..., "-m", "--message", help="what the migration changes"),
) -> None:
    """(developers) Write a new migration from the difference between the models and the newest one.

    The difference is taken against a throwaway SQLite database migrated to the current head, so
    the result does not depend on any real database; read and fix the file it writes.
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
            typer.echo(f"wrote {script.path}")


@app.command("states")
def states(mermaid: bool = typer.Option(False, "--mermaid", help="print Mermaid diagrams")) -> None:
    """Print the plan and report lifecycles, as tables or as Mermaid diagrams."""
    from planflow.states.diagram import mermaid as draw
    from planflow.states.tables import MOVES

    for entity, moves in MOVES.items():
        typer.echo(f"## {entity.replace('_', ' ')} lifecycle\n")
        if mermaid:
            typer.echo("```mermaid\n" + draw(entity) + "\n```\n")
            continue
        for move in moves:
            guards = f"  [{', '.join(move.guards)}]" if move.guards else ""
            sources = ", ".join(move.sources)
            typer.echo(f"  {move.trigger:<12} {sources} -> {move.dest}{guards}")
        typer.echo("")


def _safe_url(url: str) -> str:
    """A database URL with any password masked, fit for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _mount() -> None:
    """Attach the command groups that live in planflow.commands."""
    from planflow.commands import register

    register(app)


def main() -> None:
    """Entry point: run the app, turning planflow errors into one line on stderr."""
    from planflow.flows.runtime import prefect_env_defaults

    debug = "--debug" in sys.argv[1:]
    if debug:  # anywhere on the line: `planflow --debug plan import X` or at the end
        sys.argv.remove("--debug")
    # before Prefect is imported: its settings are read once; `serve` keeps INFO on the console
    prefect_env_defaults(quiet="serve" not in sys.argv[1:2])
    _mount()
    try:
        app(standalone_mode=False)
    except PlanflowError as exc:
        if debug:
            raise
        typer.echo(one_line(exc), err=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors and anything unexpected: still one line
        if hasattr(exc, "format_message"):  # click/typer usage errors
            typer.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(getattr(exc, "exit_code", 2))
        if debug:
            raise
        typer.echo(one_line(exc), err=True)
        sys.exit(1)
