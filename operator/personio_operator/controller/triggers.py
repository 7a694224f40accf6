"""Manual triggers: the run-now and test annotations (the Flux "requested-at" convention).

The value is free text; the operator acts whenever it differs from the value it last handled
(kept in status). ``personio-operator trigger`` writes ``<RFC 3339 time> by <user>`` so the run
history can show who asked, ``<user>`` being who the API server says the caller is
(``controller/identity.py``). It remains a claim: anyone allowed to annotate the integration can write
any name; the API server's audit log records who really did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from personio_operator.api import GROUP

RUN_REQUEST_ANNOTATION = f"{GROUP}/run-requested-at"
TEST_REQUEST_ANNOTATION = f"{GROUP}/test-requested-at"

_BY = " by "
UNKNOWN_REQUESTER = "unknown (annotation without ' by <user>')"


@dataclass(frozen=True)
class Request:
    value: str  # the annotation value, recorded in status once handled

    @property
    def requested_by(self) -> str:
        _, sep, who = self.value.partition(_BY)
        return who.strip() if sep and who.strip() else UNKNOWN_REQUESTER


def format_request(at: datetime, user: str) -> str:
    return f"{at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}{_BY}{user}"


def pending_request(annotations: Mapping[str, str] | None, key: str, last_handled: str | None) -> Request | None:
    """The request in annotation ``key`` if it was not handled yet."""
    value = (annotations or {}).get(key)
    if value is None or not value.strip() or value == last_handled:
        return None
    return Request(value)
