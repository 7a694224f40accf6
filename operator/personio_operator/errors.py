"""Error types shared by every layer.

Every message must be safe to show in status, Events, e-mails and logs: it never contains a
secret, and it says what to fix.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """How the operator reacts to an error."""

    CONFIGURATION = "Configuration"  # wrong credentials, missing attribute, bad URL: pause at once
    TRANSIENT = "Transient"  # rate limits, 5xx, timeouts: retried inside the run; still failing -> pause
    SAFETY = "Safety"  # a guard refused to write (incomplete fetch, too many deactivations): pause
    DATA = "Data"  # the HR or app data cannot be synced as it is: pause


class SyncError(Exception):
    """Base of all errors the operator reports. ``str(err)`` is the user-facing message."""

    kind: ErrorKind = ErrorKind.TRANSIENT

    def __init__(self, message: str, *, kind: ErrorKind | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind

    @property
    def message(self) -> str:
        return str(self)


class ConfigurationError(SyncError):
    kind = ErrorKind.CONFIGURATION


class TransientError(SyncError):
    kind = ErrorKind.TRANSIENT


class SafetyError(SyncError):
    kind = ErrorKind.SAFETY
