"""Timestamps: timezone-aware UTC in Python and in every database; shown in Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A datetime as aware UTC; a naive input is taken as UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local_date(moment: datetime) -> date:
    """The calendar date in Asia/Ho_Chi_Minh of a moment."""
    return as_utc(moment).astimezone(LOCAL_TZ).date()


def end_of_local_day(day: date) -> datetime:
    """The last instant of a local calendar day, in UTC: a deadline's cut-off."""
    return datetime.combine(day, time(23, 59, 59, 999999), tzinfo=LOCAL_TZ).astimezone(UTC)
