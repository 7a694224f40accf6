"""Cron schedule math in the integration's time zone: which slot is due, when the next one is."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from personio_operator.errors import ConfigurationError

# Any moment works as the start of the "does it ever fire" probe: calendars repeat.
_PROBE_START = datetime(2000, 1, 1, tzinfo=UTC)


class CronSchedule:
    """A five-field cron expression (or a macro such as ``@daily``) evaluated in an IANA time zone.

    Construction refuses what cannot be used (a malformed expression, an unknown zone, an expression
    that matches no date such as 30 February), so slot math on a ``CronSchedule`` never fails."""

    def __init__(self, expression: str, time_zone: str) -> None:
        expression = expression.strip()
        fields = expression.split()
        if not croniter.is_valid(expression) or (not expression.startswith("@") and len(fields) != 5):
            raise ConfigurationError(
                f"spec.schedule {expression!r} is not a cron expression with five fields "
                "(minute hour day-of-month month day-of-week), e.g. '0 4 * * *' for daily at 04:00"
            )
        try:
            self.zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "Europe"
            raise ConfigurationError(
                f"spec.timeZone {time_zone!r} is not an IANA time zone name such as 'UTC' or 'Europe/Berlin'"
            ) from None
        self.expression = expression
        try:
            croniter(expression, _PROBE_START.astimezone(self.zone)).get_next(datetime)
        except CroniterError:
            raise ConfigurationError(
                f"spec.schedule {expression!r} never fires: no date matches its day of month and month "
                "(such as 30 February or 31 April); choose a day that exists in that month"
            ) from None

    def latest_slot(self, now: datetime) -> datetime:
        """The latest slot at or before ``now`` (UTC)."""
        # croniter's get_prev is strictly before its start; slots have whole-minute precision.
        start = now.astimezone(self.zone) + timedelta(seconds=1)
        return croniter(self.expression, start).get_prev(datetime).astimezone(UTC)

    def next_slot(self, now: datetime) -> datetime:
        """The first slot strictly after ``now`` (UTC)."""
        return croniter(self.expression, now.astimezone(self.zone)).get_next(datetime).astimezone(UTC)

    def due_slot(self, now: datetime, last_handled: datetime | None) -> datetime | None:
        """The slot to run now, if any: the latest slot at or before ``now`` that is newer than the
        last handled one. Missed slots collapse into this one, so downtime never causes a replay."""
        slot = self.latest_slot(now)
        if last_handled is not None and slot <= last_handled:
            return None
        return slot


@functools.lru_cache(maxsize=1024)
def cron_schedule(expression: str, time_zone: str) -> CronSchedule:
    """The schedule of a spec, made once per distinct expression and zone (integrations share a few)."""
    return CronSchedule(expression, time_zone)
