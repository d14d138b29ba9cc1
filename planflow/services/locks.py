"""Taking the locks a transaction needs before it reads what it will change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel import Session


def begin_write(session: Session) -> None:
    """Make the session's transaction a writer before it reads what it will change.

    SQLite starts a transaction lazily and takes its write lock at the first write, so rows read
    before could change under it: a statement that writes nothing takes the lock now (another
    writer waits for the commit, up to the busy timeout). PostgreSQL needs nothing here: the
    rows themselves are locked with ``FOR UPDATE`` (see ``for_update``).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE report_request SET id = id WHERE 0 = 1"))


def for_update(query: Any, session: Session) -> Any:
    """``query`` locking the rows it reads, where the backend locks rows (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update()
    return query
