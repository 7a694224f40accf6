"""Typed Personio errors. Every message says what to fix and never contains a secret or token."""

from __future__ import annotations

from personio_operator.errors import ConfigurationError, TransientError

CREDENTIALS_PAGE = "Settings > Integrations > API credentials"


def _with_hint(message: str, credentials_hint: str | None) -> str:
    return f"{message} ({credentials_hint})" if credentials_hint else message


class PersonioCredentialsError(ConfigurationError):
    """Personio does not accept the client id/secret."""

    def __init__(self, status: int, *, credentials_hint: str | None = None, detail: str | None = None) -> None:
        reason = f": {detail}" if detail else ""
        super().__init__(
            _with_hint(
                f"Personio rejected the client id/secret ({status}{reason}): create new API credentials under "
                f"{CREDENTIALS_PAGE} and update the Secret",
                credentials_hint,
            )
        )
        self.status = status


class PersonioAccessError(ConfigurationError):
    """The credentials work but lack a right or scope for an endpoint the sync needs."""

    def __init__(
        self, status: int, method: str, path: str, *, credentials_hint: str | None = None, detail: str | None = None
    ) -> None:
        reason = f": {detail}" if detail else ""
        super().__init__(
            _with_hint(
                f"Personio refused {method} {path} ({status}{reason}): give the API credentials read access to "
                f"employees (persons, employments, org units, workplaces) under {CREDENTIALS_PAGE}, "
                "then update the Secret if Personio issued new credentials",
                credentials_hint,
            )
        )
        self.status = status


class PersonioEndpointError(ConfigurationError):
    """An endpoint the client needs does not exist at the configured host (wrong base URL or API version)."""

    def __init__(self, status: int, method: str, url: str, *, detail: str | None = None) -> None:
        reason = f": {detail}" if detail else ""
        super().__init__(
            f"Personio answered {method} {url} with {status}{reason}: check spec.personio.baseUrl "
            "(e.g. https://api.personio.de) and spec.personio.apiVersion"
        )
        self.status = status


class PersonioUnavailableError(TransientError):
    """Rate limits, 5xx or timeouts that did not clear within the run's time budget."""


class PersonioResponseError(TransientError):
    """Personio sent something the client cannot use (malformed body, request rejected as invalid)."""
