"""How the controller writes text and times for ``kubectl describe`` and Events: one bounded line, UTC seconds."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from personio_operator.api.status import MAX_MESSAGE


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """One line, no control characters, at most ``limit`` characters."""
    flat = " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def timestamp(moment: datetime) -> datetime:
    """UTC, whole seconds: what Kubernetes itself writes."""
    return moment.astimezone(UTC).replace(microsecond=0)


def rfc3339(moment: datetime | None) -> str | None:
    return None if moment is None else timestamp(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
