"""The indicator catalogue shipped in config/data/indicators.json, loaded into the database."""

from __future__ import annotations

import json
import time
import weakref
from functools import cache
from importlib import resources

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from planflow.models import Indicator, IndicatorKind
from planflow.models.base import table_of


@cache
def catalogue() -> tuple[dict, ...]:
    """The shipped indicator definitions, in catalogue order."""
    text = resources.files("planflow.config").joinpath("data/indicators.json").read_text("utf-8")
    return tuple(json.loads(text)["indicators"])


def load_indicators(*, session: Session) -> int:
    """Insert or update every catalogue indicator; returns how many were new."""
    existing = {i.code: i for i in session.exec(select(Indicator)).all()}
    created = 0
    for position, item in enumerate(catalogue()):
        row = existing.get(item["code"]) or Indicator(
            code=item["code"], name="", kind=IndicatorKind.count
        )
        created += item["code"] not in existing
        row.name = item["name"]
        row.kind = IndicatorKind(item["kind"])
        row.unit = item.get("unit", "")
        row.scale = item.get("scale", 1)
        row.bounded = item.get("bounded", True)
        row.maximum = item.get("maximum")
        row.numerator_label = item.get("numerator")
        row.denominator_label = item.get("denominator")
        row.target_op = item.get("target_op")
        row.targets = item.get("targets", {})
        row.source = item.get("source")
        row.position = position
        session.add(row)
    session.flush()
    return created


def indicators(session: Session) -> dict[str, Indicator]:
    """The loaded catalogue by code, in catalogue order."""
    rows = session.exec(select(Indicator).order_by(col(Indicator.position))).all()
    return {row.code: row for row in rows}


HELD_SECONDS = 60.0
_held: weakref.WeakKeyDictionary[Engine, tuple[float, dict[str, Indicator]]]
_held = weakref.WeakKeyDictionary()


def held_indicators(session: Session) -> dict[str, Indicator]:
    """``indicators`` for a long-running process (the portal), read from the database at most
    once per ``HELD_SECONDS`` and database. Only ``load_indicators`` writes the catalogue (the
    shipped list, at setup and on upgrades): what it changes reaches the process within that
    time. The indicators are copies that belong to no session: read them, never add them."""
    engine = session.get_bind().engine
    now = time.monotonic()
    held = _held.get(engine)
    if held is not None and now - held[0] < HELD_SECONDS:
        return held[1]
    columns = [c.key for c in table_of(Indicator).columns]
    found = {
        code: Indicator(**{c: getattr(row, c) for c in columns})
        for code, row in indicators(session).items()
    }
    if found:  # a catalogue not loaded yet is looked for again on the next call
        _held[engine] = (now, found)
    return found


def target_for(indicator: Indicator, year: int) -> float | None:
    """The target in force for a year: the first milestone not earlier than it, else the last."""
    if not indicator.targets:
        return None
    milestones = sorted((int(y), v) for y, v in indicator.targets.items())
    for milestone, value in milestones:
        if milestone >= year:
            return value
    return milestones[-1][1]
