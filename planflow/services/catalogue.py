"""The indicator catalogue shipped in config/data/indicators.json, loaded into the database."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from sqlmodel import Session, col, select

from planflow.models import Indicator, IndicatorKind


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


def target_for(indicator: Indicator, year: int) -> float | None:
    """The target in force for a year: the first milestone not earlier than it, else the last."""
    if not indicator.targets:
        return None
    milestones = sorted((int(y), v) for y, v in indicator.targets.items())
    for milestone, value in milestones:
        if milestone >= year:
            return value
    return milestones[-1][1]
