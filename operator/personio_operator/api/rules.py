"""Checks on spec values that both the CRD (as CEL rules the API server runs) and the pydantic
models (as validators the CLI and the operator run) apply, from one regular expression each.

The expressions are RE2-compatible (no look-around, no back-references) because the API server
evaluates CEL ``matches()`` with RE2, and they contain no quote or backslash so they can be
embedded in a CEL string literal unchanged.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter


def _cron_field(value: str) -> str:
    """One cron field: ``*`` or a value or a range, optionally stepped, as a comma list."""
    item = rf"([*]|{value}(-{value})?)(/[1-9][0-9]?)?"
    return rf"{item}(,{item})*"


_MINUTE = r"[0-5]?[0-9]"
_HOUR = r"(2[0-3]|[01]?[0-9])"
_DAY_OF_MONTH = r"(3[01]|[12][0-9]|0?[1-9])"
_MONTH = r"(1[0-2]|0?[1-9]|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
_DAY_OF_WEEK = r"([0-7]|sun|mon|tue|wed|thu|fri|sat)"
_MACRO = r"@(yearly|annually|monthly|weekly|daily|midnight|hourly)"

CRON_PATTERN = (
    r"(?i)^("
    + _MACRO
    + "|"
    + " +".join(_cron_field(part) for part in (_MINUTE, _HOUR, _DAY_OF_MONTH, _MONTH, _DAY_OF_WEEK))
    + ")$"
)
"""Five-field cron (minute hour day-of-month month day-of-week; names, ranges, steps, lists) or a macro."""

CRON_MESSAGE = (
    "schedule must be a five-field cron expression (minute hour day-of-month month day-of-week), "
    "e.g. '0 4 * * *' for daily at 04:00, or a macro such as @daily"
)

TIME_ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"
"""The shape of an IANA time zone name (UTC, Europe/Berlin, America/Argentina/Buenos_Aires)."""

THRESHOLD_PATTERN = r"^(100|[1-9]?[0-9])%$|^[0-9]+$"
"""A count such as 25, or a percentage from 0% to 100%."""

THRESHOLD_MESSAGE = "maxDeactivations must be a count such as 25 or a percentage from 0% to 100% such as '10%'"

_CRON = re.compile(CRON_PATTERN)


def _cel_string(pattern: str) -> str:
    if "'" in pattern or "\\" in pattern:
        raise ValueError(f"pattern cannot be embedded in a CEL string literal: {pattern}")
    return f"'{pattern}'"


def cron_rule() -> dict[str, Any]:
    """``x-kubernetes-validations`` entry for a cron string."""
    return {"rule": f"self.matches({_cel_string(CRON_PATTERN)})", "message": CRON_MESSAGE}


def threshold_rule() -> dict[str, Any]:
    """``x-kubernetes-validations`` entry for an int-or-string count or percentage."""
    return {
        "rule": f"type(self) == string ? self.matches({_cel_string(THRESHOLD_PATTERN)}) : self >= 0",
        "message": THRESHOLD_MESSAGE,
    }


def check_cron(value: str) -> str:
    """Pydantic validator twin of :func:`cron_rule`, plus what CEL cannot check: that it ever fires."""
    if not _CRON.fullmatch(value):
        raise ValueError(f"{CRON_MESSAGE}; got {value!r}")
    try:
        croniter(value, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except CroniterBadDateError:
        raise ValueError(
            f"schedule {value!r} never fires: no month it names has that day (e.g. 30 February); "
            "pick a day of the month that exists, e.g. '0 4 28 2 *'"
        ) from None
    return value


def check_time_zone(value: str) -> str:
    """The name must be known to the time zone database the operator runs with."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of the database such as "Europe"
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as UTC or Europe/Berlin") from None
    return value


DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
"""A Kubernetes object name (RFC 1123 subdomain): lower-case letters, digits, '-' and '.'; no '/'."""

SECRET_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"
"""A key in a Secret's data, as the API server allows it."""

_HOST = r"([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?([.][A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])"
HTTP_URL_PATTERN = r"^https?://" + _HOST + r"(:[0-9]{1,5})?(/[-A-Za-z0-9._~%!$&()*+,;=:/]*)?$"
"""An http(s) URL of a host and a path: no user:password@, no query, no fragment, no spaces."""

HEADER_TOKEN_PATTERN = r"^[A-Z0-9][A-Z0-9_]*$"
"""Personio's X-Personio-App-ID / Partner-ID convention (UPPER_SNAKE_CASE); nothing that could break a header."""

_EMAIL_LOCAL = r"[A-Za-z0-9!#$%&*+/=?^_{|}~-]+([.][A-Za-z0-9!#$%&*+/=?^_{|}~-]+)*"
_EMAIL_DOMAIN = r"([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?[.])+[A-Za-z][-A-Za-z0-9]*[A-Za-z0-9]"
EMAIL_PATTERN = "^" + _EMAIL_LOCAL + "@" + _EMAIL_DOMAIN + "$"
"""An ASCII e-mail address with a dotted domain (no quoted local parts, no IP literals, no bare hosts)."""

TEMPLATE_PATTERN = r"^[^\x00-\x1f\x7f]*[{]name[}][^\x00-\x1f\x7f]*$"
"""A team name template: contains {name}, no control characters."""
