"""Business calendar: working hours, weekends, holidays, 调休 days, user extensions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.latency.calendar import DEFAULT_CALENDAR_FILE, BusinessCalendar, CalendarError

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600.0


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


PLAIN = BusinessCalendar.load()
WITH_LUNCH = BusinessCalendar.load(lunch=("12:00", "13:00"))


@pytest.fixture
def calendar() -> BusinessCalendar:
    return PLAIN


@pytest.fixture
def with_lunch() -> BusinessCalendar:
    return WITH_LUNCH


def test_friday_evening_to_monday_morning_is_one_business_hour(calendar: BusinessCalendar) -> None:
    assert (
        calendar.business_seconds(local(2026, 11, 27, 17, 30), local(2026, 11, 30, 9, 30)) == HOUR
    )


def test_same_day_inside_hours_is_wall_time(calendar: BusinessCalendar) -> None:
    assert (
        calendar.business_seconds(local(2026, 11, 24, 10, 15), local(2026, 11, 24, 11, 0)) == 2700
    )


def test_midnight_crossing_counts_evening_and_morning_only(calendar: BusinessCalendar) -> None:
    # Tue 17:00 -> Wed 10:00: one hour before closing, one after opening.
    assert (
        calendar.business_seconds(local(2026, 11, 24, 17, 0), local(2026, 11, 25, 10, 0))
        == 2 * HOUR
    )


def test_night_only_wait_counts_nothing(calendar: BusinessCalendar) -> None:
    assert calendar.business_seconds(local(2026, 11, 24, 19, 0), local(2026, 11, 25, 8, 59)) == 0


def test_end_before_start_is_zero(calendar: BusinessCalendar) -> None:
    assert calendar.business_seconds(local(2026, 11, 25, 10, 0), local(2026, 11, 24, 10, 0)) == 0


def test_national_day_week_is_off_and_make_up_saturday_works(calendar: BusinessCalendar) -> None:
    # Wed 2026-09-30 17:00 -> Thu 2026-10-08 10:00: Oct 1-7 are holidays.
    assert (
        calendar.business_seconds(local(2026, 9, 30, 17, 0), local(2026, 10, 8, 10, 0)) == 2 * HOUR
    )
    # Sat 2026-10-10 is a 调休 working day, Sun 2026-10-11 is not.
    assert calendar.is_working_day(date(2026, 10, 10))
    assert not calendar.is_working_day(date(2026, 10, 11))
    assert (
        calendar.business_seconds(local(2026, 10, 10, 9, 0), local(2026, 10, 12, 9, 0)) == 9 * HOUR
    )


def test_2026_official_schedule_spot_checks(calendar: BusinessCalendar) -> None:
    for off in (
        date(2026, 1, 2),
        date(2026, 2, 23),
        date(2026, 4, 6),
        date(2026, 5, 5),
        date(2026, 6, 19),
        date(2026, 9, 25),
    ):
        assert not calendar.is_working_day(off), off
    for makeup in (
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
    ):
        assert calendar.is_working_day(makeup), makeup


def test_2027_dates_are_marked_provisional_and_2026_are_not(calendar: BusinessCalendar) -> None:
    assert date(2027, 2, 8) in calendar.provisional_days
    assert not calendar.is_working_day(date(2027, 2, 8))
    assert all(day.year == 2027 for day in calendar.provisional_days)


def test_lunch_break_is_not_business_time(with_lunch: BusinessCalendar) -> None:
    assert (
        with_lunch.business_seconds(local(2026, 11, 24, 11, 0), local(2026, 11, 24, 14, 0))
        == 2 * HOUR
    )
    assert with_lunch.day_us == 8 * 3600 * 1_000_000


def test_deadline_on_friday_evening_moves_to_monday_opening(calendar: BusinessCalendar) -> None:
    deadline = calendar.add_business_seconds(local(2026, 11, 27, 16, 0), 2 * HOUR)
    assert deadline == local(2026, 11, 30, 9, 0)
    assert calendar.add_business_seconds(local(2026, 11, 27, 17, 30), HOUR) == local(
        2026, 11, 30, 9, 30
    )


def test_deadline_skips_the_holiday_week(calendar: BusinessCalendar) -> None:
    assert calendar.add_business_seconds(local(2026, 9, 30, 17, 0), 4 * HOUR) == local(
        2026, 10, 8, 12, 0
    )


def test_zero_budget_outside_hours_waits_for_opening(calendar: BusinessCalendar) -> None:
    assert calendar.add_business_seconds(local(2026, 11, 28, 12, 0), 0) == local(2026, 11, 30, 9, 0)


def _reference_business_seconds(cal: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Slow but obvious: walk day by day and clip each day's working periods."""
    total = 0.0
    day = start.astimezone(cal.tz).date()
    while day <= end.astimezone(cal.tz).date():
        if cal.is_working_day(day):
            midnight = datetime(day.year, day.month, day.day, tzinfo=cal.tz)
            for begin_us, end_us in cal.periods:
                begin = midnight + timedelta(microseconds=begin_us)
                finish = midnight + timedelta(microseconds=end_us)
                overlap = (min(end, finish) - max(start, begin)).total_seconds()
                total += max(0.0, overlap)
        day += timedelta(days=1)
    return total


instants = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2028, 1, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


@settings(max_examples=300, deadline=None)
@given(start=instants, end=instants, lunch=st.booleans())
def test_business_seconds_matches_day_by_day_reference(
    start: datetime, end: datetime, lunch: bool
) -> None:
    cal = WITH_LUNCH if lunch else PLAIN
    if end < start:
        start, end = end, start
    assert cal.business_seconds(start, end) == _reference_business_seconds(cal, start, end)


@settings(max_examples=300, deadline=None)
@given(start=instants, budget=st.integers(min_value=0, max_value=30 * 9 * 3600))
def test_deadline_is_the_last_instant_within_budget(start: datetime, budget: int) -> None:
    cal = WITH_LUNCH
    deadline = cal.add_business_seconds(start, budget)
    assert cal.business_seconds(start, deadline) == budget
    assert cal.business_seconds(start, deadline + timedelta(microseconds=1)) > budget


def test_user_file_extends_and_overrides_default(tmp_path: Path) -> None:
    own = tmp_path / "company.toml"
    own.write_text(
        '[[holidays]]\nname = "company day"\nfrom = 2026-11-24\nto = 2026-11-24\n\n'
        '[[workdays]]\nname = "we work on national day"\ndate = 2026-10-08\n\n'
        '[[workdays]]\nname = "open on new year"\ndate = 2026-01-02\n',
        encoding="utf-8",
    )
    cal = BusinessCalendar.load(own)
    assert not cal.is_working_day(date(2026, 11, 24))
    assert cal.is_working_day(date(2026, 1, 2))
    assert not cal.is_working_day(date(2026, 1, 1))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[[holidays]]\nname = "x"\nfrom = "2026-01-01"\nto = 2026-01-02\n', "holidays[0]: 'from'"),
        ("[[holidays]]\nfrom = 2026-01-05\nto = 2026-01-02\n", "holidays[0]: 'to'"),
        ('[[workdays]]\ndate = 2026-01-03\nprovisional = "yes"\n', "workdays[0]: 'provisional'"),
        (
            "[[holidays]]\nfrom = 2026-01-03\nto = 2026-01-03\n[[workdays]]\ndate = 2026-01-03\n",
            "holiday and workday",
        ),
        ("[hours]\nstart = 1\n", "unknown top-level keys"),
        ("[[holidays]\n", "company.toml"),
    ],
)
def test_bad_user_file_is_rejected_naming_file_and_entry(
    tmp_path: Path, body: str, expected: str
) -> None:
    own = tmp_path / "company.toml"
    own.write_text(body, encoding="utf-8")
    with pytest.raises(CalendarError, match="company.toml") as error:
        BusinessCalendar.load(own)
    assert expected in str(error.value)


def test_missing_file_and_bad_settings_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="cannot read"):
        BusinessCalendar.load(tmp_path / "absent.toml")
    with pytest.raises(CalendarError, match="workday_end"):
        BusinessCalendar.load(workday_start="18:00", workday_end="09:00")
    with pytest.raises(CalendarError, match="lunch"):
        BusinessCalendar.load(lunch=("08:00", "13:00"))
    with pytest.raises(CalendarError, match="tz"):
        BusinessCalendar.load(tz="Mars/Olympus")
    with pytest.raises(CalendarError, match="workday_start"):
        BusinessCalendar.load(workday_start="nine")


def test_packaged_calendar_is_the_default_file() -> None:
    assert DEFAULT_CALENDAR_FILE.name == "calendar_cn.toml"
    assert DEFAULT_CALENDAR_FILE.is_file()


def test_naive_datetimes_are_refused(calendar: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.business_seconds(datetime(2026, 1, 5, 9), datetime(2026, 1, 5, 10))
