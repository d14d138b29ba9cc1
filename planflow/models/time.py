"""Timestamps: timezone-aware UTC in Python and in every database; shown in the local zone.

The local zone is ``Settings.timezone`` (Asia/Ho_Chi_Minh unless set): its one source.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from planflow.config.settings import get_settings


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_tz() -> ZoneInfo:
    """The configured local time zone (``PLANFLOW_TIMEZONE``, Asia/Ho_Chi_Minh by default)."""
    return _zone(get_settings().timezone)


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A datetime as aware UTC; a naive input is taken as UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local_date(moment: datetime) -> date:
    """The calendar date of a moment in the local time zone."""
    return as_utc(moment).astimezone(local_tz()).date()


def end_of_local_day(day: date) -> datetime:
    """The last instant of a local calendar day, in UTC: a deadline's cut-off."""
    return datetime.combine(day, time(23, 59, 59, 999999), tzinfo=local_tz()).astimezone(UTC)
