"""One redaction step for every text that leaves the process (status, Events, e-mails, logs,
``--json`` reports, exception text).

Secret values are remembered when they are read (``remember_secret``); ``redact`` replaces them and
anything shaped like an ``Authorization`` header or a bearer token.
"""

from __future__ import annotations

import re
import threading

MASK = "***"
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[^\s'\",)\]]+")

_lock = threading.Lock()
_secrets: set[str] = set()


def remember_secret(value: str | None) -> None:
    """Mask this value in every text that is redacted from now on (the process's whole life)."""
    if value and len(value.strip()) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)
            _secrets.add(value.strip())


def redact(text: str) -> str:
    """The text without any remembered secret value and without bearer/basic credentials."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return _BEARER.sub(lambda match: f"{match.group(1)} {MASK}", text)
