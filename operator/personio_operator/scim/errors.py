"""Errors of the SCIM target. All are ``SyncError``s with messages safe to show anywhere."""

from __future__ import annotations

from personio_operator.errors import ErrorKind, SyncError, TransientError


class ScimRequestError(SyncError):
    """The app refused a write for one object (4xx). Other objects are unaffected."""

    kind = ErrorKind.DATA

    def __init__(self, message: str, *, status: int | None = None, scim_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.scim_type = scim_type


class ScimConflictError(ScimRequestError):
    """The userName (or group) is taken by an app object that is not ours: it is never overwritten."""


class ScimRetriesExhaustedError(ScimRequestError):
    """A write kept failing (5xx, timeouts, 429) up to the attempt cap: this object fails, the run goes on.
    ``status`` is the app's last answer (None after a timeout)."""


class ScimUnavailableError(TransientError):
    """The app failed most recent writes even after retries, or the run's time budget for it is spent:
    the run stops rather than keep sending requests to a failing app."""
