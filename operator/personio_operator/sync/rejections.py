"""When objects the app rejects make a run fail, and how rejected objects are listed.

A *rejection* is one object the app refused (a 4xx other than 401/403, or a 5xx that persisted
through the client's retries) or whose payload failed our own check before the first write. It
does not stop the run: the others are written, the rejected ones are listed, and the next run
tries them again (nothing about them is remembered; the plan simply still contains them).

The policy: a run tolerates ``rejection_limit(planned)`` = max(5, 1 % of the planned changes)
rejections. Up to that many, the run is Succeeded with rejections (visible in the report, the
history entry, an ``ObjectsRejected`` Warning Event and ``status.lastRunRejections``) and does not
pause. One more, and the applier starts no further object (an app that refuses everything is not
sent thousands of requests), and the run fails and pauses: that many refusals means the app or the
integration needs someone (a setting in the app, a field it refuses, an app that is down for some
objects), not a retry tomorrow. Credentials refused (401/403) and configuration errors are never
per-object: they fail the run at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from personio_operator.api.run import ObjectResult
from personio_operator.errors import ErrorKind, SyncError
from personio_operator.safe_text import shown

MIN_TOLERATED = 5  # rejections every run tolerates, however small
TOLERATED_PERCENT = 1  # ... or this share of the planned changes, whichever is more
LISTED = 20  # rejected objects named in the report text, status, the Event and the e-mail
NAME_LENGTH = 120  # a rejected object's name in a listing
ERROR_LENGTH = 300  # the app's reason in a listing


def rejection_limit(planned: int) -> int:
    """How many rejections a run of ``planned`` changes tolerates before it fails."""
    return max(MIN_TOLERATED, planned * TOLERATED_PERCENT // 100)


def rejected(objects: Iterable[ObjectResult]) -> list[ObjectResult]:
    return [obj for obj in objects if obj.rejected]


def object_label(obj: ObjectResult, name_length: int = NAME_LENGTH) -> str:
    """'User create anna@acme.example': what was rejected, without why."""
    return f"{obj.kind} {obj.action} {shown(obj.name, name_length)}"


def object_line(obj: ObjectResult, error_length: int = ERROR_LENGTH) -> str:
    """'User create anna@acme.example: create user ... was refused by the app (HTTP 400): ...'."""
    reason = shown(obj.error or "no reason given", error_length)
    return f"{object_label(obj)}: {reason}"


def more_line(listed: int, total: int) -> str | None:
    """'and 7 more' when a listing of ``listed`` items leaves some of ``total`` out."""
    return f"and {total - listed} more" if total > listed else None


def listing(lines: Sequence[str], *, limit: int = LISTED) -> list[str]:
    """The first ``limit`` lines, then 'and N more' if there are more."""
    shown_lines = list(lines[:limit])
    more = more_line(len(shown_lines), len(lines))
    return shown_lines + ([more] if more else [])


def fitted_listing(labels: Sequence[str], budget: int, *, limit: int = LISTED) -> str:
    """Labels joined by '; ', the first ``limit`` that fit in ``budget`` characters, then 'and N more'
    (for one-line texts such as Events, whose length is bounded)."""
    taken: list[str] = []
    used = 0
    for label in labels[:limit]:
        reserve = len(f"; and {len(labels)} more")
        if used + len(label) + 2 + reserve > budget and taken:
            break
        taken.append(label)
        used += len(label) + 2
    more = more_line(len(taken), len(labels))
    return "; ".join(taken + ([more] if more else []))


def check_rejections(objects: Sequence[ObjectResult], planned: int, *, stopped_early: bool) -> None:
    """Raise the run's error when the rejections are more than the run tolerates."""
    refused = rejected(objects)
    limit = rejection_limit(planned)
    if len(refused) <= limit:
        return
    stop_note = f"; once more than {limit} were rejected, no further change was started" if stopped_early else ""
    raise SyncError(
        f"The app rejected {len(refused)} of the {len(objects)} changes attempted, more than a run tolerates "
        f"({limit}: {MIN_TOLERATED} or {TOLERATED_PERCENT} % of the {planned} planned changes, whichever is more)"
        f"{stop_note}. First: {object_line(refused[0])}. When they fail alike, the app or the integration needs a "
        "change (a setting in the app, an attribute it refuses, the data in Personio); each one is listed per "
        "object, and the next run tries it again",
        kind=_kind_of(refused),
    )


def _kind_of(refused: Sequence[ObjectResult]) -> ErrorKind:
    """Transient when the app only failed with server errors (it may work tomorrow), else Data."""
    if all(obj.http_status is not None and obj.http_status >= 500 for obj in refused):
        return ErrorKind.TRANSIENT
    return ErrorKind.DATA
