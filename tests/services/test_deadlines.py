"""Working-day arithmetic and per-level deadlines, on real Vietnamese calendars (DESIGN.md §5)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from planflow.config.settings import get_settings
from planflow.services.deadlines import (
    Override,
    WorkCalendar,
    add_working_days,
    derive_deadline,
    is_working_day,
    load_overrides,
    next_working_day,
    previous_working_day,
    today_local,
    working_days_between,
)

D = date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 1, 24), True),  # Friday before Tết Ất Tỵ
        (D(2025, 1, 25), False),  # Saturday
        (D(2025, 1, 27), False),  # Tết (29 tháng Chạp, compensating Saturday 1/2)
        (D(2025, 1, 31), False),  # Tết (mùng 3)
        (D(2025, 2, 3), True),  # back to work
        (D(2025, 4, 7), False),  # Giỗ Tổ Hùng Vương
        (D(2025, 4, 26), True),  # Saturday worked for Friday 2/5 (override table)
        (D(2025, 5, 2), False),  # Friday off in exchange
        (D(2025, 9, 1), False),  # National Day, the adjacent day
        (D(2024, 4, 29), False),  # Monday off in exchange for Saturday 4/5
        (D(2024, 5, 4), True),  # Saturday worked
        (D(2024, 9, 3), False),  # National Day, the adjacent day
        (D(2025, 5, 30), True),  # an ordinary Friday
    ],
)
def test_is_working_day_knows_weekends_holidays_and_swaps(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("parent_due", "levels", "expected"),
    [
        (D(2025, 5, 30), 1, D(2025, 5, 23)),  # 25/5/2025 is a Sunday
        (D(2025, 5, 30), 2, D(2025, 5, 20)),
        (D(2024, 5, 30), 1, D(2024, 5, 24)),  # 25/5/2024 is a Saturday
        (D(2024, 5, 30), 2, D(2024, 5, 20)),
        (D(2025, 5, 30), 0, D(2025, 5, 30)),
    ],
)
def test_derive_deadline_moves_to_previous_working_day(
    parent_due: date, levels: int, expected: date
) -> None:
    assert (
        derive_deadline(parent_due, levels, lead_days=5, policy="previous_working_day") == expected
    )


@pytest.mark.parametrize(
    ("parent_due", "levels", "expected"),
    [
        # the Hà Đông plan 70/KH-UBND: district by 25/5 and 25/11, wards by 20/5 and 20/11
        (D(2024, 5, 30), 1, D(2024, 5, 25)),
        (D(2024, 5, 30), 2, D(2024, 5, 20)),
        (D(2024, 11, 30), 1, D(2024, 11, 25)),
        (D(2024, 11, 30), 2, D(2024, 11, 20)),
    ],
)
def test_derive_deadline_keep_calendar_matches_the_hadong_plan(
    parent_due: date, levels: int, expected: date
) -> None:
    assert derive_deadline(parent_due, levels, lead_days=5, policy="keep_calendar") == expected


def test_derive_deadline_defaults_to_five_days_and_previous_working_day() -> None:
    assert derive_deadline(D(2024, 5, 30)) == D(2024, 5, 24)


@pytest.mark.parametrize(
    ("lead", "policy", "levels", "expected"),
    [
        ("6", "previous_working_day", 1, D(2025, 5, 23)),  # 24/5/2025 is a Saturday
        ("6", "keep_calendar", 1, D(2025, 5, 24)),
        ("10", "keep_calendar", 2, D(2025, 5, 10)),
        ("0", "previous_working_day", 3, D(2025, 5, 30)),
    ],
)
def test_derive_deadline_reads_settings_at_call_time(
    monkeypatch: pytest.MonkeyPatch, lead: str, policy: str, levels: int, expected: date
) -> None:
    monkeypatch.setenv("PLANFLOW_LEAD_DAYS_PER_LEVEL", lead)
    monkeypatch.setenv("PLANFLOW_DEADLINE_POLICY", policy)
    get_settings.cache_clear()
    assert derive_deadline(D(2025, 5, 30), levels) == expected


def test_explicit_arguments_win_over_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANFLOW_LEAD_DAYS_PER_LEVEL", "10")
    monkeypatch.setenv("PLANFLOW_DEADLINE_POLICY", "keep_calendar")
    get_settings.cache_clear()
    assert derive_deadline(D(2025, 5, 30), lead_days=5, policy="previous_working_day") == D(
        2025, 5, 23
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"policy": "next_working_day"}, "unknown deadline policy"),
        ({"levels": -1}, "must not be negative"),
        ({"lead_days": -5}, "must not be negative"),
    ],
)
def test_derive_deadline_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        derive_deadline(D(2025, 5, 30), **kwargs)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2025, 1, 31), D(2025, 1, 24)),  # Tết Ất Tỵ: 25/1 to 2/2/2025 off
        (D(2025, 5, 2), D(2025, 4, 29)),  # 30/4, 1/5 holidays, 2/5 swapped off
        (D(2025, 4, 27), D(2025, 4, 26)),  # Sunday; the Saturday before was worked
        (D(2024, 5, 5), D(2024, 5, 4)),  # same for the 2024 swap
        (D(2024, 4, 29), D(2024, 4, 26)),
        (D(2025, 5, 30), D(2025, 5, 30)),  # a working day stays put
    ],
)
def test_previous_working_day(day: date, expected: date) -> None:
    assert previous_working_day(day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2025, 1, 25), D(2025, 2, 3)),
        (D(2025, 4, 30), D(2025, 5, 5)),
        (D(2025, 5, 24), D(2025, 5, 26)),
        (D(2025, 5, 30), D(2025, 5, 30)),
    ],
)
def test_next_working_day(day: date, expected: date) -> None:
    assert next_working_day(day) == expected


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (D(2025, 1, 24), 1, D(2025, 2, 3)),  # across Tết
        (D(2025, 2, 3), -1, D(2025, 1, 24)),
        (D(2025, 1, 22), 5, D(2025, 2, 5)),  # 23, 24 Jan, then 3, 4, 5 Feb
        (D(2025, 5, 23), 1, D(2025, 5, 26)),  # across a weekend
        (D(2025, 5, 26), -1, D(2025, 5, 23)),
        (D(2025, 4, 25), 1, D(2025, 4, 26)),  # the worked Saturday counts
        (D(2025, 4, 29), 1, D(2025, 5, 5)),
        (D(2025, 5, 23), 0, D(2025, 5, 23)),
    ],
)
def test_add_working_days(day: date, n: int, expected: date) -> None:
    assert add_working_days(day, n) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (D(2025, 5, 23), D(2025, 5, 26), 1),  # Friday to Monday
        (D(2025, 5, 26), D(2025, 5, 23), -1),
        (D(2025, 1, 24), D(2025, 2, 2), 0),  # the whole Tết break
        (D(2025, 1, 24), D(2025, 2, 3), 1),
        (D(2025, 4, 30), D(2025, 5, 31), 20),  # May 2025: 31 days, 9 weekend, 1/5 and 2/5 off
        (D(2025, 5, 30), D(2025, 5, 30), 0),
    ],
)
def test_working_days_between(a: date, b: date, expected: int) -> None:
    assert working_days_between(a, b) == expected
    if expected and is_working_day(b):
        assert add_working_days(a, expected) == b


def test_override_table_has_sources_and_the_2025_swap() -> None:
    overrides = load_overrides()
    assert all(o.source.strip() for o in overrides)
    assert all((o.day.weekday() >= 5) == (o.kind == "working_day") for o in overrides)
    by_day = {o.day: o.kind for o in overrides}
    assert by_day[D(2025, 4, 26)] == "working_day"
    assert by_day[D(2025, 5, 2)] == "day_off"


def test_overrides_make_a_saturday_worked_and_a_weekday_off() -> None:
    calendar = WorkCalendar(
        [
            Override(D(2030, 1, 5), "working_day", "test"),  # a Saturday
            Override(D(2030, 1, 7), "day_off", "test"),  # a Monday
        ]
    )
    assert calendar.is_working_day(D(2030, 1, 5))
    assert not calendar.is_working_day(D(2030, 1, 7))
    assert calendar.previous_working_day(D(2030, 1, 7)) == D(2030, 1, 5)
    assert WorkCalendar().is_working_day(D(2030, 1, 7))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2025, 5, 29, 17, 0, tzinfo=UTC), D(2025, 5, 30)),  # midnight in Hà Nội
        (datetime(2025, 5, 29, 16, 59), D(2025, 5, 29)),  # naive is taken as UTC
        (datetime(2025, 5, 30, 0, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")), D(2025, 5, 30)),
    ],
)
def test_today_local_is_the_date_in_ho_chi_minh(now: datetime, expected: date) -> None:
    assert today_local(now) == expected


def test_today_local_honours_the_timezone_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANFLOW_TIMEZONE", "UTC")
    get_settings.cache_clear()
    assert today_local(datetime(2025, 5, 29, 17, 0, tzinfo=UTC)) == D(2025, 5, 29)


def test_today_local_defaults_to_now() -> None:
    before = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    assert today_local() in {before, datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()}
