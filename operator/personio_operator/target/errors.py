"""Errors of the SCIM target. All are ``SyncError``s with messages safe to show anywhere."""

from __future__ import annotations

from personio_operator.errors import ErrorKind, SyncError


class ScimRequestError(SyncError):
    """The app refused a write for one object (4xx). Other objects are unaffected."""

    kind = ErrorKind.DATA

    def __init__(self, message: str, *, status: int | None = None, scim_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.scim_type = scim_type


class ScimConflictError(ScimRequestError):
    """The userName (or group) is taken by an app object that is not ours: it is never overwritten."""
