"""Typed access to what SQLModel leaves untyped: a class's Core table, a row's id, a lookup."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar, cast

from sqlalchemy import Table
from sqlmodel import Session, SQLModel

from planflow.errors import NotFound


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel table class (SQLModel does not declare ``__table__``)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def pk(row: _HasId) -> int:
    """The id of a row that has been flushed (SQLModel types it ``int | None`` until then)."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: flush the session first")
    return row.id


M = TypeVar("M", bound=SQLModel)


TABLE_VI = {"OrgUnit": "đơn vị", "Plan": "kế hoạch", "ReportRequest": "yêu cầu báo cáo",
            "Report": "báo cáo"}


def must_get(session: Session, model: type[M], key: object, what: str | None = None) -> M:
    """The row ``key`` names, or NotFound saying which ``what`` (default: the table) is missing."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"không có {what or TABLE_VI.get(model.__name__, model.__name__)} {key}")
    return row


def stored_ids(ids: Iterable[int | None]) -> list[int]:
    """Ids read back from the database, typed as such (a stored id is never None)."""
    return [i for i in ids if i is not None]
