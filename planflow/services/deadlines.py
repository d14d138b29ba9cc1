"""Working days of Vietnam's public offices and the deadlines derived from them (DESIGN.md §5)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib.resources import files
from typing import Literal, get_args

import holidays

from planflow.config.settings import DeadlinePolicy, get_settings
from planflow.models.time import local_date, utcnow

OverrideKind = Literal["day_off", "working_day"]
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Override:
    """One government decision about one date: a weekday off, or a weekend day worked."""

    day: date
    kind: OverrideKind
    source: str


def load_overrides() -> tuple[Override, ...]:
    """The day swaps shipped in ``planflow/config/data/holiday_overrides.json``."""
    path = files("planflow.config").joinpath("data/holiday_overrides.json")
    overrides, seen = [], set()
    for entry in json.loads(path.read_text(encoding="utf-8"))["days"]:
        override = Override(date.fromisoformat(entry["date"]), entry["kind"], entry["source"])
        if override.kind not in get_args(OverrideKind) or not override.source.strip():
            raise ValueError(f"holiday override {override.day}: bad kind or missing source")
        if override.day in seen:
            raise ValueError(f"holiday override {override.day}: listed twice")
        seen.add(override.day)
        overrides.append(override)
    return tuple(overrides)


class WorkCalendar:
    """Monday to Friday, less Vietnam's public holidays and days off, plus weekend days worked."""

    def __init__(self, overrides: Iterable[Override] = ()) -> None:
        overrides = tuple(overrides)
        # observed=True: a holiday falling on a weekend gives a compensatory weekday (nghỉ bù)
        self._public = holidays.country_holidays("VN", observed=True)
        self._days_off = {o.day for o in overrides if o.kind == "day_off"}
        self._worked = {o.day for o in overrides if o.kind == "working_day"}

    def is_working_day(self, day: date) -> bool:
        """Whether public offices work on ``day``."""
        if day in self._worked:
            return True
        # the membership test also loads the year, and with it the package's own swaps
        if day in self._days_off or day in self._public:
            return False
        return day.weekday() < 5 or day in self._public.weekend_workdays

    def previous_working_day(self, day: date) -> date:
        """``day`` if it is a working day, else the last working day before it."""
        while not self.is_working_day(day):
            day -= ONE_DAY
        return day

    def next_working_day(self, day: date) -> date:
        """``day`` if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """The date ``n`` working days after ``day`` (before it when ``n`` is negative)."""
        step = ONE_DAY if n >= 0 else -ONE_DAY
        for _ in range(abs(n)):
            day += step
            while not self.is_working_day(day):
                day += step
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after ``a`` up to and including ``b``; negative when ``b`` is earlier."""
        if b < a:
            return -self.working_days_between(b, a)
        return sum(self.is_working_day(a + ONE_DAY * i) for i in range(1, (b - a).days + 1))


@lru_cache(maxsize=1)
def work_calendar() -> WorkCalendar:
    """The process's calendar: the ``holidays`` package's Vietnam plus the shipped overrides."""
    return WorkCalendar(load_overrides())


def is_working_day(day: date) -> bool:
    """Whether public offices work on ``day``."""
    return work_calendar().is_working_day(day)


def previous_working_day(day: date) -> date:
    """``day`` if it is a working day, else the last working day before it."""
    return work_calendar().previous_working_day(day)


def next_working_day(day: date) -> date:
    """``day`` if it is a working day, else the first working day after it."""
    return work_calendar().next_working_day(day)


def add_working_days(day: date, n: int) -> date:
    """The date ``n`` working days after ``day`` (before it when ``n`` is negative)."""
    return work_calendar().add_working_days(day, n)


def working_days_between(a: date, b: date) -> int:
    """Working days after ``a`` up to and including ``b``; negative when ``b`` is earlier."""
    return work_calendar().working_days_between(a, b)


def derive_deadline(
    parent_due: date,
    levels: int = 1,
    *,
    lead_days: int | None = None,
    policy: DeadlinePolicy | None = None,
) -> date:
    """The deadline ``levels`` below a parent's: ``lead_days`` earlier per level, then policy."""
    settings = get_settings()
    lead_days = settings.lead_days_per_level if lead_days is None else lead_days
    policy = policy or settings.deadline_policy
    if levels < 0 or lead_days < 0:
        raise ValueError(f"levels and lead_days must not be negative: {levels}, {lead_days}")
    due = parent_due - timedelta(days=lead_days * levels)
    if policy == "previous_working_day":
        return previous_working_day(due)
    if policy == "keep_calendar":
        return due
    raise ValueError(f"unknown deadline policy {policy!r}")


def today_local(now: datetime | None = None) -> date:
    """The calendar date of ``now`` (default: this instant) in the configured time zone."""
    return local_date(utcnow() if now is None else now)  # a naive ``now`` is taken as UTC
