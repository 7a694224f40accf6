"""Bearer tokens for Personio: one request per run, cached until shortly before expiry, renewed once on a 401."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import SecretStr

from personio_operator.personio.errors import PersonioCredentialsError, PersonioResponseError
from personio_operator.personio.http import PersonioHttp

DEFAULT_LIFETIME_SECONDS = 86400.0
MAX_EXPIRY_MARGIN_SECONDS = 300.0

# Status codes Personio uses for a wrong client id/secret on the token endpoints.
_V2_REJECTED = frozenset({400, 401, 403})
_V1_REJECTED = frozenset({400, 401, 403, 422})
_V2_CREDENTIAL_ERRORS = frozenset({"invalid_client", "unauthorized_client", "invalid_grant", "access_denied"})


@dataclass(frozen=True)
class IssuedToken:
    value: SecretStr
    expires_in: float


class TokenCache:
    """Holds the current token; concurrent callers share one token request."""

    def __init__(
        self,
        issue: Callable[[], Awaitable[IssuedToken]],
        *,
        on_token: Callable[[str], None] = lambda _: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issue = issue
        self._on_token = on_token
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: SecretStr | None = None
        self._valid_until = 0.0

    def __repr__(self) -> str:
        return f"TokenCache(has_token={self._token is not None})"

    async def token(self) -> str:
        current = self._current()
        if current is not None:
            return current
        async with self._lock:
            current = self._current()
            if current is None:
                current = await self._refresh()
            return current

    async def renew(self, stale: str) -> str:
        """Replace ``stale`` after Personio refused it, unless another request already did."""
        async with self._lock:
            if self._token is not None and self._token.get_secret_value() != stale:
                return self._token.get_secret_value()
            return await self._refresh()

    def _current(self) -> str | None:
        if self._token is not None and self._clock() < self._valid_until:
            return self._token.get_secret_value()
        return None

    async def _refresh(self) -> str:
        issued = await self._issue()
        value = issued.value.get_secret_value()
        self._on_token(value)
        margin = min(MAX_EXPIRY_MARGIN_SECONDS, issued.expires_in * 0.1)
        self._token = issued.value
        self._valid_until = self._clock() + issued.expires_in - margin
        return value


async def issue_v2_token(http: PersonioHttp, client_id: str, client_secret: SecretStr) -> IssuedToken:
    """``POST /v2/auth/token`` with the client-credentials grant (form-encoded, as Personio requires)."""
    response = await http.request(
        "POST",
        "/v2/auth/token",
        endpoint="/v2/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret.get_secret_value(),
        },
        authenticate=False,
        accept=_V2_REJECTED,
    )
    body = http.json_of(response)
    if response.status_code in _V2_REJECTED:
        error = body.get("error") if isinstance(body, dict) else None
        if response.status_code == 400 and error not in _V2_CREDENTIAL_ERRORS:
            raise http.error_for(response)
        raise PersonioCredentialsError(
            response.status_code, credentials_hint=http.credentials_hint, detail=http.detail_of(response)
        )
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
        raise PersonioResponseError("Personio's token response has no access_token; check spec.personio.baseUrl")
    return IssuedToken(SecretStr(body["access_token"]), _lifetime(body.get("expires_in")))


async def issue_v1_token(http: PersonioHttp, client_id: str, client_secret: SecretStr) -> IssuedToken:
    """``POST /v1/auth`` with a JSON body (query-string credentials are deprecated)."""
    response = await http.request(
        "POST",
        "/v1/auth",
        endpoint="/v1/auth",
        json={"client_id": client_id, "client_secret": client_secret.get_secret_value()},
        authenticate=False,
        accept=_V1_REJECTED,
    )
    body = http.json_of(response)
    if response.status_code in _V1_REJECTED:
        raise PersonioCredentialsError(
            response.status_code, credentials_hint=http.credentials_hint, detail=http.detail_of(response)
        )
    data = body.get("data") if isinstance(body, dict) else None
    token = data.get("token") if isinstance(data, dict) else None
    if body.get("success") is False or not isinstance(token, str) or not token:
        raise PersonioResponseError("Personio's /v1/auth response has no token; check spec.personio.baseUrl")
    return IssuedToken(SecretStr(token), _lifetime(data.get("expires_in")))


def _lifetime(raw: object) -> float:
    try:
        seconds = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_LIFETIME_SECONDS
    return seconds if seconds > 0 else DEFAULT_LIFETIME_SECONDS
