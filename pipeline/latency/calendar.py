"""Business time: working hours, public holidays and 调休 make-up days.

Business latency is the part of a wait that fell inside working hours, so a message sent
Friday 17:30 and answered Monday 09:30 waited one business hour. Arithmetic is in integer
microseconds of local wall-clock time, and whole days are counted arithmetically (weekday
formula plus a bisect over the listed exceptions), so a span of months costs the same as a
span of minutes.
"""

from __future__ import annotations

import tomllib
from bisect import bisect_left
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_CALENDAR_FILE = Path(__file__).resolve().parent.parent / "data" / "calendar_cn.toml"

_DAY_US = 86_400_000_000
_ONE_DAY = timedelta(days=1)


class CalendarError(ValueError):
    """A calendar file or setting is wrong; the message names the file and the entry."""


def _parse_clock(value: str, setting: str) -> int:
    """'09:30' -> microseconds since local midnight."""
    try:
        parsed = time.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise CalendarError(f"{setting}: {value!r} is not a HH:MM time") from exc
    return ((parsed.hour * 60 + parsed.minute) * 60 + parsed.second) * 1_000_000


def _working_periods(
    workday_start: str, workday_end: str, lunch: tuple[str, str] | None
) -> tuple[tuple[int, int], ...]:
    start = _parse_clock(workday_start, "workday_start")
    end = _parse_clock(workday_end, "workday_end")
    if end <= start:
        raise CalendarError(
            f"workday_end {workday_end} must be after workday_start {workday_start}"
        )
    if lunch is None:
        return ((start, end),)
    lunch_start = _parse_clock(lunch[0], "lunch start")
    lunch_end = _parse_clock(lunch[1], "lunch end")
    if not start < lunch_start < lunch_end < end:
        raise CalendarError(f"lunch {lunch} must lie strictly inside {workday_start}-{workday_end}")
    return ((start, lunch_start), (lunch_end, end))


def _weekdays_between(first: date, stop: date) -> int:
    """Number of Monday-Friday dates in [first, stop)."""
    days = (stop - first).days
    if days <= 0:
        return 0
    full_weeks, rest = divmod(days, 7)
    start_weekday = first.weekday()
    return full_weeks * 5 + sum(1 for i in range(rest) if (start_weekday + i) % 7 < 5)


def _count_between(sorted_days: list[date], first: date, stop: date) -> int:
    return bisect_left(sorted_days, stop) - bisect_left(sorted_days, first)


class _CalendarFile:
    """The holidays and make-up workdays of one TOML file, validated entry by entry."""

    def __init__(self, path: Path) -> None:
        self.holidays: set[date] = set()
        self.workdays: set[date] = set()
        self.provisional: set[date] = set()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CalendarError(f"{path}: cannot read calendar file: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise CalendarError(f"{path}: {exc}") from exc
        unknown = set(data) - {"holidays", "workdays"}
        if unknown:
            raise CalendarError(f"{path}: unknown top-level keys {sorted(unknown)}")
        for index, entry in enumerate(data.get("holidays", [])):
            where = f"{path}: holidays[{index}]"
            first = self._date(entry, "from", where)
            last = self._date(entry, "to", where)
            if last < first:
                raise CalendarError(f"{where}: 'to' {last} is before 'from' {first}")
            days = {first + timedelta(days=i) for i in range((last - first).days + 1)}
            self._add(days, self.holidays, entry, where)
        for index, entry in enumerate(data.get("workdays", [])):
            where = f"{path}: workdays[{index}]"
            self._add({self._date(entry, "date", where)}, self.workdays, entry, where)
        both = self.holidays & self.workdays
        if both:
            raise CalendarError(f"{path}: dates listed as holiday and workday: {sorted(both)}")

    @staticmethod
    def _date(entry: object, key: str, where: str) -> date:
        if not isinstance(entry, dict):
            raise CalendarError(f"{where}: expected a table, got {entry!r}")
        value = entry.get(key)
        if not isinstance(value, date) or isinstance(value, datetime):
            raise CalendarError(f"{where}: '{key}' must be a date like 2026-10-01, got {value!r}")
        return value

    def _add(self, days: set[date], target: set[date], entry: dict, where: str) -> None:
        provisional = entry.get("provisional", False)
        if not isinstance(provisional, bool):
            raise CalendarError(f"{where}: 'provisional' must be true or false")
        target.update(days)
        if provisional:
            self.provisional.update(days)


class BusinessCalendar:
    """Which instants are working time for one tenant."""

    def __init__(
        self,
        *,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        provisional_days: Iterable[date] = (),
        tz: str = "Asia/Shanghai",
        workday_start: str = "09:00",
        workday_end: str = "18:00",
        lunch: tuple[str, str] | None = None,
    ) -> None:
        try:
            self.tz = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(f"tz: unknown time zone {tz!r}") from exc
        self.periods = _working_periods(workday_start, workday_end, lunch)
        self.day_us = sum(end - start for start, end in self.periods)
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.provisional_days = frozenset(provisional_days)
        # Only exceptions that change the weekday rule matter for counting.
        self._weekday_holidays = sorted(d for d in self.holidays if d.weekday() < 5)
        self._weekend_workdays = sorted(d for d in self.workdays if d.weekday() >= 5)

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        *,
        tz: str = "Asia/Shanghai",
        workday_start: str = "09:00",
        workday_end: str = "18:00",
        lunch: tuple[str, str] | None = None,
    ) -> BusinessCalendar:
        """The packaged Chinese calendar, extended (and overridden per date) by ``path``."""
        base = _CalendarFile(DEFAULT_CALENDAR_FILE)
        holidays, workdays, provisional = base.holidays, base.workdays, base.provisional
        if path is not None:
            extra = _CalendarFile(Path(path))
            holidays = (holidays - extra.workdays) | extra.holidays
            workdays = (workdays - extra.holidays) | extra.workdays
            provisional = (provisional - extra.holidays - extra.workdays) | extra.provisional
        return cls(
            holidays=holidays,
            workdays=workdays,
            provisional_days=provisional,
            tz=tz,
            workday_start=workday_start,
            workday_end=workday_end,
            lunch=lunch,
        )

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Working time between two aware instants; 0 when end is not after start."""
        return self._business_us(start, end) / 1_000_000

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The last instant by which no more than ``seconds`` of working time has passed.

        That is the SLA deadline in business time: a reply at or before it is within, a reply
        after it is late. When the budget runs out exactly at a period's end (18:00 Friday),
        the deadline is the start of the next working period (09:00 Monday), because the wait
        is no later at 20:00 Friday than at 18:00.
        """
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        need = round(seconds * 1_000_000)
        local = self._local(start)
        day, position = local.date(), self._since_midnight_us(local)
        while True:
            if self.is_working_day(day):
                for period_start, period_end in self.periods:
                    if period_end <= position:
                        continue
                    begin = max(period_start, position)
                    available = period_end - begin
                    if need < available:
                        return self._instant(day, begin + need)
                    need -= available
            day, position = day + _ONE_DAY, 0

    def _business_us(self, start: datetime, end: datetime) -> int:
        if end <= start:
            return 0
        local_start, local_end = self._local(start), self._local(end)
        first, last = local_start.date(), local_end.date()
        start_us = self._since_midnight_us(local_start)
        end_us = self._since_midnight_us(local_end)
        if first == last:
            return self._within_day(first, start_us, end_us)
        whole_days = self._working_days_between(first + _ONE_DAY, last)
        return (
            self._within_day(first, start_us, _DAY_US)
            + whole_days * self.day_us
            + self._within_day(last, 0, end_us)
        )

    def _working_days_between(self, first: date, stop: date) -> int:
        """Working days in [first, stop)."""
        return (
            _weekdays_between(first, stop)
            - _count_between(self._weekday_holidays, first, stop)
            + _count_between(self._weekend_workdays, first, stop)
        )

    def _within_day(self, day: date, from_us: int, to_us: int) -> int:
        if not self.is_working_day(day):
            return 0
        total = 0
        for period_start, period_end in self.periods:
            overlap = min(to_us, period_end) - max(from_us, period_start)
            if overlap > 0:
                total += overlap
        return total

    def _local(self, instant: datetime) -> datetime:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("business time needs timezone-aware datetimes")
        return instant.astimezone(self.tz)

    @staticmethod
    def _since_midnight_us(local: datetime) -> int:
        return (
            (local.hour * 60 + local.minute) * 60 + local.second
        ) * 1_000_000 + local.microsecond

    def _instant(self, day: date, since_midnight_us: int) -> datetime:
        local_midnight = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        return (local_midnight + timedelta(microseconds=since_midnight_us)).astimezone(UTC)
