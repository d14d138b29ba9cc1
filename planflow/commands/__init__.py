"""Command-line groups, one module per area; ``register`` mounts them on the main app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Mount every command group on ``app``. Each area adds its one line here."""
    from planflow.commands import documents, officer, ops
    from planflow.commands.plans import plan_app
    from planflow.commands.portal import portal_app
    from planflow.commands.units import units_app

    app.add_typer(units_app, name="units")
    app.add_typer(plan_app, name="plan")
    app.add_typer(documents.report_app, name="report")
    app.add_typer(portal_app, name="portal")
    ops.register(app)
    officer.register(app)
