"""API credentials and the bearer tokens issued for them (v1 and v2 share one store)."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from enum import StrEnum

from pydantic import SecretStr

from personio_testkit.personio_sandbox.clock import SandboxClock
from personio_testkit.personio_sandbox.config import SandboxConfig


class TokenCheck(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass
class IssuedToken:
    value: str
    scopes: frozenset[str]
    expires_at: float  # clock.monotonic() seconds
    generation: int  # credential generation it was issued for
    revoked: bool = False

    def __repr__(self) -> str:
        return f"IssuedToken(scopes={sorted(self.scopes)}, expires_at={self.expires_at}, revoked={self.revoked})"


class Credentials:
    """The one API credential of the sandbox company: id, secret, readable attributes, scopes.

    Tests change ``whitelist`` (a set of v1 attribute keys; None = all) or call ``regenerate()``;
    changes apply to the next request.
    """

    def __init__(self, config: SandboxConfig, clock: SandboxClock) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.client_id = config.client_id
        self._secret = config.client_secret
        self.scopes: frozenset[str] = frozenset(config.scopes)
        self.whitelist: set[str] | None = None if config.whitelist is None else set(config.whitelist)
        # "Stale" credentials do not see the v2 termination fields until regenerated (Personio changelog).
        self.stale = False
        self._lifetime = config.token_lifetime_seconds
        self._revoke_on_regenerate = config.revoke_tokens_on_regenerate
        self._generation = 0
        self._tokens: dict[str, IssuedToken] = {}
        self._current: dict[frozenset[str], IssuedToken] = {}

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.client_id!r}, secret=**********, scopes={sorted(self.scopes)})"

    @property
    def client_secret(self) -> SecretStr:
        return self._secret

    def matches(self, client_id: str, client_secret: str) -> bool:
        id_ok = secrets.compare_digest(client_id.encode(), self.client_id.encode())
        secret_ok = secrets.compare_digest(client_secret.encode(), self._secret.get_secret_value().encode())
        return id_ok and secret_ok

    def regenerate(self) -> str:
        """New secret (returned); the old one stops working, and so do its tokens (configurable)."""
        with self._lock:
            new_secret = "papi-" + secrets.token_urlsafe(32)
            self._secret = SecretStr(new_secret)
            self._generation += 1
            self.stale = False
            self._current.clear()
            if self._revoke_on_regenerate:
                for token in self._tokens.values():
                    token.revoked = True
            return new_secret

    def issue(self, scopes: frozenset[str] | None = None) -> tuple[str, int, frozenset[str]]:
        """(token, seconds left, scopes): the same token while it lives, as Personio's stable tokens."""
        granted = self.scopes if scopes is None else scopes
        with self._lock:
            now = self._clock.monotonic()
            token = self._current.get(granted)
            if token is None or token.revoked or token.expires_at <= now:
                token = IssuedToken(
                    value="papi-" + secrets.token_urlsafe(48),
                    scopes=granted,
                    expires_at=now + self._lifetime,
                    generation=self._generation,
                )
                self._tokens[token.value] = token
                self._current[granted] = token
            return token.value, max(1, int(token.expires_at - now)), granted

    def check(self, value: str) -> tuple[TokenCheck, frozenset[str]]:
        with self._lock:
            token = self._tokens.get(value)
            if token is None:
                return TokenCheck.UNKNOWN, frozenset()
            if token.revoked:
                return TokenCheck.REVOKED, frozenset()
            if token.expires_at <= self._clock.monotonic():
                return TokenCheck.EXPIRED, frozenset()
            return TokenCheck.VALID, token.scopes

    def revoke(self, value: str) -> None:
        with self._lock:
            token = self._tokens.get(value)
            if token is not None:
                token.revoked = True
