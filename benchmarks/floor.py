"""The floor of a step: the same row changes written with raw DB-API ``executemany`` in one
transaction, on a copy of the database taken just before the step (no ORM, no Prefect)."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

Rows = dict[tuple[Any, ...], tuple[Any, ...]]


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (the WAL folded in)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def restore(copy: Path, database: Path) -> None:
    """Put the database back as it was when ``copy`` was taken."""
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(copy, database)


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'alembic_version' ORDER BY name"
        )
    ]


def _layout(conn: sqlite3.Connection, table: str) -> tuple[list[str], list[int]]:
    info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    columns = [row[1] for row in info]
    keys = [i for i, row in enumerate(info) if row[5]] or list(range(len(columns)))
    return columns, keys


def _read(conn: sqlite3.Connection, table: str, keys: list[int]) -> Rows:
    return {
        tuple(row[i] for i in keys): tuple(row) for row in conn.execute(f'SELECT * FROM "{table}"')
    }


class Changes:
    """What a step changed: per table, rows inserted, updated and deleted."""

    def __init__(self, before: Path, after: Path) -> None:
        self.per_table: dict[str, tuple[list[str], list[int], list, list, list]] = {}
        with sqlite3.connect(before) as old, sqlite3.connect(after) as new:
            for table in _tables(new):
                columns, keys = _layout(new, table)
                was, now = _read(old, table, keys), _read(new, table, keys)
                inserted = [row for key, row in now.items() if key not in was]
                updated = [row for key, row in now.items() if key in was and was[key] != row]
                deleted = [key for key in was if key not in now]
                if inserted or updated or deleted:
                    self.per_table[table] = (columns, keys, inserted, updated, deleted)
        old.close()
        new.close()

    @property
    def rows(self) -> int:
        return sum(len(i) + len(u) + len(d) for _, _, i, u, d in self.per_table.values())

    def replay(self, mirror: Path) -> float:
        """Write these changes into ``mirror`` (a copy of the ``before`` database); seconds."""
        conn = sqlite3.connect(mirror, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=OFF")
        started = time.perf_counter()
        conn.execute("BEGIN")
        for table, (columns, keys, inserted, updated, deleted) in self.per_table.items():
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            where = " AND ".join(f'"{columns[i]}" = ?' for i in keys)
            if deleted:
                conn.executemany(f'DELETE FROM "{table}" WHERE {where}', deleted)
            if updated:
                sets = ", ".join(f'"{c}" = ?' for c in columns)
                conn.executemany(
                    f'UPDATE "{table}" SET {sets} WHERE {where}',
                    [row + tuple(row[i] for i in keys) for row in updated],
                )
            if inserted:
                conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', inserted)
        conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        conn.close()
        return seconds
