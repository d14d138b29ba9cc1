"""Alembic's environment for planflow: the models' metadata, on the connection we are handed.

`planflow.config.db` passes an open connection in ``config.attributes["connection"]`` (it holds
the migration lock on it); without one, the URL comes from the settings like every command.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

import planflow.models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Freeze planflow's and SQLModel's column types as the plain SQLAlchemy type they store."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_item=render_item,
        compare_type=True,
        **kwargs,
    )


def run_offline() -> None:
    """``--sql``: print the DDL for the configured URL instead of running it."""
    from planflow.config.settings import get_settings

    url = context.config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url
    _configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from planflow.config.db import get_engine

    with get_engine(context.config.get_main_option("sqlalchemy.url") or None).connect() as conn:
        _run(conn)
        conn.commit()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
