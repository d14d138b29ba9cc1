"""Taking the locks a transaction needs before it reads what it will change."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session


def begin_write(session: Session) -> None:
    """Make the session's transaction a writer before it reads what it will change.

    SQLite starts a transaction lazily and takes its write lock at the first write, so rows read
    before could change under it: a statement that writes nothing takes the lock now (another
    writer waits for the commit, up to the busy timeout). PostgreSQL needs nothing here: the
    rows themselves are locked with ``SELECT … FOR UPDATE``.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE report_request SET id = id WHERE 0 = 1"))
