"""Schedule math: slots in a time zone, DST, missed slots collapsing, bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personio_operator.controller.schedule import CronSchedule
from personio_operator.errors import ConfigurationError


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_slot_in_utc():
    schedule = CronSchedule("0 4 * * *", "UTC")
    assert schedule.latest_slot(utc(2026, 11, 25, 10)) == utc(2026, 11, 25, 4)
    assert schedule.latest_slot(utc(2026, 11, 25, 4)) == utc(2026, 11, 25, 4)  # a slot is due at its own minute
    assert schedule.latest_slot(utc(2026, 11, 25, 3, 59, 59)) == utc(2026, 11, 24, 4)
    assert schedule.next_slot(utc(2026, 11, 25, 4)) == utc(2026, 11, 26, 4)


def test_time_zone_follows_daylight_saving():
    schedule = CronSchedule("0 4 * * *", "Europe/Berlin")
    assert schedule.next_slot(utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 2)  # CEST, UTC+2
    assert schedule.next_slot(utc(2026, 3, 27, 12)) == utc(2026, 3, 28, 3)  # CET, UTC+1


def test_missed_slots_collapse_into_the_latest():
    schedule = CronSchedule("0 4 * * *", "UTC")
    assert schedule.due_slot(utc(2026, 11, 28, 9), last_handled=utc(2026, 11, 25, 4)) == utc(2026, 11, 28, 4)
    assert schedule.due_slot(utc(2026, 11, 28, 9), last_handled=utc(2026, 11, 28, 4)) is None


@pytest.mark.parametrize(
    ("expression", "zone", "message"),
    [
        ("every day", "UTC", "five fields"),
        ("0 4 * * * *", "UTC", "five fields"),
        ("0 25 * * *", "UTC", "five fields"),
        ("0 4 * * *", "Mars/Olympus", "IANA time zone"),
        ("0 4 * * *", "Europe", "IANA time zone"),  # a folder of the time zone database
        ("0 4 30 2 *", "UTC", "never fires"),
        ("0 4 31 4,6,9,11 *", "Europe/Berlin", "never fires"),
    ],
)
def test_bad_schedule_or_zone_says_what_to_fix(expression, zone, message):
    with pytest.raises(ConfigurationError, match=message):
        CronSchedule(expression, zone)


@given(
    minute=st.integers(0, 59),
    hour=st.integers(0, 23),
    now=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
)
def test_latest_slot_is_at_or_before_now_and_next_slot_after(minute, hour, now, zone):
    schedule = CronSchedule(f"{minute} {hour} * * *", zone)
    latest, following = schedule.latest_slot(now), schedule.next_slot(now)
    assert latest <= now < following
    assert schedule.next_slot(latest) > latest
    assert schedule.due_slot(now, last_handled=latest) is None
