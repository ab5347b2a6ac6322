"""Each source's unit, plausibility bounds and the provable seconds/milliseconds fix."""

from datetime import UTC, datetime

import pytest

from pipeline.timestamps import TimestampError, parse_epoch, parse_iso8601, parse_rfc2822

NOW = datetime(2026, 11, 29, tzinfo=UTC)
INSTANT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (1_795_140_000_000, "ms"),
        ("1795140000000", "ms"),
        (1_795_140_000, "ms"),
        (1_795_140_000, "s"),
        (1_795_140_000.0, "s"),
        (1_795_140_000_000, "s"),
        (" 1795140000 ", "s"),
    ],
)
def test_epoch_values_and_provable_unit_fixes(value, unit):
    assert parse_epoch(value, unit, NOW) == INSTANT


def test_fractional_seconds_are_kept():
    assert parse_epoch(1_795_140_000.25, "s", NOW).microsecond == 250_000


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (0, "implausible_timestamp"),
        (-5, "implausible_timestamp"),
        (946_684_799_000, "implausible_timestamp"),
        (int(NOW.timestamp() * 1000) + 86_400_001, "implausible_timestamp"),
        (1_795_140_000_000_000, "implausible_timestamp"),
        (True, "bad_timestamp"),
        (None, "bad_timestamp"),
        ("2026-11-20", "bad_timestamp"),
        ([1], "bad_timestamp"),
        (float("nan"), "wrong_type"),
        (2**70, "wrong_type"),
    ],
)
def test_epoch_refusals(value, reason):
    with pytest.raises(TimestampError) as error:
        parse_epoch(value, "ms", NOW)
    assert error.value.reason == reason


def test_exactly_one_day_ahead_is_still_plausible():
    one_day = int(NOW.timestamp() * 1000) + 86_400_000
    assert parse_epoch(one_day, "ms", NOW) == datetime(2026, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-20T02:00:00.000+0000",
        "2026-11-20T02:00:00Z",
        "2026-11-20T10:00:00+08:00",
        "2026-11-20T02:00:00",
    ],
)
def test_iso8601(value):
    parsed = parse_iso8601(value, NOW)
    assert parsed == INSTANT
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        "Fri, 20 Nov 2026 10:00:00 +0800",
        "20 Nov 2026 02:00:00 -0000",
        "Fri, 20 Nov 2026 02:00:00 GMT",
    ],
)
def test_rfc2822(value):
    assert parse_rfc2822(value, NOW) == INSTANT


@pytest.mark.parametrize(
    ("parser", "value", "reason"),
    [
        (parse_rfc2822, "yesterday", "bad_timestamp"),
        (parse_rfc2822, "", "bad_timestamp"),
        (parse_rfc2822, "Mon, 1 Jan 1990 00:00:00 +0000", "implausible_timestamp"),
        (parse_iso8601, 1795140000, "bad_timestamp"),
        (parse_iso8601, "2099-01-01T00:00:00Z", "implausible_timestamp"),
    ],
)
def test_string_refusals(parser, value, reason):
    with pytest.raises(TimestampError) as error:
        parser(value, NOW)
    assert error.value.reason == reason
