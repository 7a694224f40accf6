"""HTTP to Personio: headers, timeouts, rate-limit pacing, and the operator's one retry mechanism
(``personio_operator.retrying``: capped attempts, growing waits, the run's time budget as outer bound).

Callers get a successful response or a typed :mod:`personio_operator.personio.errors` exception.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from personio_operator.bounded_http import AnswerTooLarge, bounded_request
from personio_operator.http_retry import RETRYABLE_STATUSES, retry_after_seconds
from personio_operator.personio.errors import (
    PersonioAccessError,
    PersonioEndpointError,
    PersonioResponseError,
    PersonioUnavailableError,
)
from personio_operator.personio.ratelimit import RateLimiter, RateLimitHeaders
from personio_operator.redaction import clean_untrusted, install_log_redaction, redact, remember_secret
from personio_operator.retrying import Budget, GaveUp, RetryableFailure, RetryEvent, RetryPolicy, call_with_retries

__all__ = ["Budget", "HttpPolicy", "HttpStats", "PersonioHttp", "Redactor", "TokenProvider"]

log = logging.getLogger(__name__)

# httpcore's DEBUG trace prints raw response headers, and Personio v1 echoes the bearer token in one:
# with this module in use, every log record of the process is redacted.
install_log_redaction()


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts, retries and concurrency. Tests shrink the waits; production keeps the defaults."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_attempts: int = 5  # per request; a request that still fails fails the fetch
    backoff_base: float = 1.0  # first wait after a 5xx or timeout; doubles per attempt
    backoff_max: float = 30.0
    min_wait_after_429: float = 1.0  # Personio asks for >= 1 s when no header says otherwise
    jitter: float = 0.2  # up to this share of a wait is added at random
    retry_after_max: float = 120.0  # a longer Retry-After fails the request instead of stalling the run
    max_concurrency: int = 16
    not_found_retries: int = 2  # for endpoints where Personio is known to answer 404 intermittently

    @property
    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.read_timeout, connect=self.connect_timeout)

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            backoff_base=self.backoff_base,
            backoff_max=self.backoff_max,
            jitter=self.jitter,
            retry_after_max=self.retry_after_max,
        )


class TokenProvider(Protocol):
    async def token(self) -> str: ...

    async def renew(self, stale: str) -> str: ...


class Redactor:
    """The client's view of the process-wide redaction (:mod:`personio_operator.redaction`): values
    given or added (the client secret, each access token) are remembered there and masked in every
    text that leaves the process, not only in this client's messages."""

    def __init__(self, secrets: Collection[str] = ()) -> None:
        self._count = 0
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        if secret:
            remember_secret(secret)
            self._count += 1

    def __call__(self, text: str) -> str:
        return redact(text)

    def __repr__(self) -> str:
        return f"Redactor({self._count} values)"


@dataclass
class HttpStats:
    requests: dict[str, int] = field(default_factory=dict)
    throttled: int = 0
    retried: int = 0
    last_problem: str | None = None  # the most recent retried failure, for error messages

    def count(self, endpoint: str) -> None:
        self.requests[endpoint] = self.requests.get(endpoint, 0) + 1


class PersonioHttp:
    """Sends requests to one Personio host on behalf of one run."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        headers: Mapping[str, str],
        policy: HttpPolicy,
        budget: Budget,
        redactor: Redactor,
        credentials_hint: str | None = None,
        renew_token_on: Collection[int] = (401,),
    ) -> None:
        """``renew_token_on``: statuses that mean "token no longer valid" (v1 answers 403, v2 401)."""
        self._client = client
        self._renew_token_on = frozenset(renew_token_on)
        self.base_url = base_url.rstrip("/")
        self._shown_base_url = redact(self.base_url)  # for messages: no credential a URL may carry
        self._host = urlsplit(self.base_url)
        self._headers = dict(headers)
        self.policy = policy
        self.budget = budget
        self.redact = redactor
        self.credentials_hint = credentials_hint
        self.auth: TokenProvider | None = None
        self.stats = HttpStats()
        self._limiters: dict[str, RateLimiter] = {}
        self._concurrency = asyncio.Semaphore(policy.max_concurrency)

    def url(self, path_or_url: str) -> str:
        """An absolute URL on the configured host. Links from responses keep path and query only."""
        parts = urlsplit(path_or_url)
        path = parts.path if parts.path.startswith("/") else f"/{parts.path}"
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.base_url}{path}{query}"

    def limiter(self, endpoint: str) -> RateLimiter:
        return self._limiters.setdefault(endpoint, RateLimiter())

    async def get_json(
        self,
        path_or_url: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        accept: Collection[int] = (),
        retry_not_found: bool = False,
    ) -> tuple[int, Any]:
        response = await self.request(
            "GET", path_or_url, endpoint=endpoint, params=params, accept=accept, retry_not_found=retry_not_found
        )
        return response.status_code, self.json_of(response)

    def json_of(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise PersonioResponseError(
                f"Personio answered {response.request.method} {response.request.url.path} with a body that is not "
                "JSON; check spec.personio.baseUrl points at the Personio API"
            ) from None

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        authenticate: bool = True,
        accept: Collection[int] = (),
        retry_not_found: bool = False,
    ) -> httpx.Response:
        """Send with retries. Returns a 2xx response or one whose status is in ``accept``; raises otherwise.

        Repeated (see ``personio_operator.retrying``): 429 (after Retry-After or the rate-limit headers'
        hint), 5xx, timeouts of a GET, connections that failed, and a few 404s where ``retry_not_found``.
        A token Personio no longer accepts is renewed once and the request sent again in the same attempt."""
        url = self.url(path_or_url)
        path = urlsplit(url).path
        limiter = self.limiter(endpoint)
        attempts = 0
        renewed = False
        not_found_left = self.policy.not_found_retries if retry_not_found else 0

        async def attempt() -> httpx.Response:
            nonlocal attempts, renewed, not_found_left
            attempts += 1
            while True:  # at most twice: once more after renewing a token Personio no longer accepts
                headers = dict(self._headers)
                token = None
                if authenticate:
                    assert self.auth is not None, "PersonioHttp.auth must be set before authenticated requests"
                    token = await self.auth.token()
                    headers["Authorization"] = f"Bearer {token}"
                try:
                    async with self._concurrency, limiter.slot():
                        self.stats.count(endpoint)
                        response = await bounded_request(
                            self._client,
                            method,
                            url,
                            deadline=2 * self.policy.read_timeout + self.policy.connect_timeout,
                            params=params,
                            data=data,
                            json=json,
                            headers=headers,
                            timeout=self.policy.timeout,
                        )
                        limiter.observe(response.headers, success=response.is_success)
                except AnswerTooLarge as exc:
                    raise PersonioResponseError(
                        f"Personio answered {method} {path} with {exc}; check that {self._shown_base_url} is the "
                        "Personio API"
                    ) from None
                except (httpx.TimeoutException, httpx.TransportError) as exc:
                    retryable = method == "GET" or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                    problem = _transport_problem(exc)
                    if not retryable:
                        raise PersonioUnavailableError(
                            f"Personio {method} {path} failed: {problem}; check that {self._shown_base_url} "
                            "is reachable"
                        ) from None
                    raise RetryableFailure(problem) from None

                status = response.status_code
                if response.is_success or (status in accept and not (status == 404 and not_found_left)):
                    return response
                if status in self._renew_token_on and authenticate and not renewed and token is not None:
                    assert self.auth is not None
                    renewed = True
                    await self.auth.renew(token)
                    continue
                if status == 429:
                    self.stats.throttled += 1
                    wait = self._wait_after_429(response, attempts)
                    limiter.throttled(min(wait, self.policy.retry_after_max))
                    raise RetryableFailure("HTTP 429", status=status, asked=wait)
                if status in RETRYABLE_STATUSES:
                    raise RetryableFailure(f"HTTP {status}", status=status)
                if status == 404 and not_found_left:
                    not_found_left -= 1
                    raise RetryableFailure("HTTP 404", status=status)
                raise self.error_for(response)

        def retrying(event: RetryEvent) -> None:
            self.stats.retried += 1
            self.stats.last_problem = f"{method} {path}: {event.failure.problem}"
            log.info("Personio %s %s: %s, retrying in %.2f s", method, path, event.failure.problem, event.wait)

        try:
            return await call_with_retries(attempt, policy=self.policy.retry, budget=self.budget, on_retry=retrying)
        except GaveUp as gave_up:
            raise PersonioUnavailableError(
                f"Personio {method} {path} kept failing ({gave_up.failure.problem}) {gave_up.describe()}; the "
                f"next run will try again. If it persists, check Personio's status and that {self._shown_base_url} "
                "is reachable"
            ) from None

    def error_for(self, response: httpx.Response) -> Exception:
        method, path = response.request.method, response.request.url.path
        status = response.status_code
        detail = self.detail_of(response)
        if status in (401, 403):
            return PersonioAccessError(status, method, path, credentials_hint=self.credentials_hint, detail=detail)
        if status in (404, 405, 410, 412, 501):
            return PersonioEndpointError(status, method, f"{self._shown_base_url}{path}", detail=detail)
        suffix = f": {detail}" if detail else ""
        return PersonioResponseError(
            f"Personio rejected {method} {path} with {status}{suffix}; this client may not match the Personio API "
            "in use: check spec.personio.apiVersion and report it if it persists"
        )

    def detail_of(self, response: httpx.Response) -> str | None:
        """A short reason from a v1, v2 or OAuth error body, secrets removed."""
        try:
            body = response.json()
        except ValueError:
            return None
        text = _error_text(body)
        return clean_untrusted(text) if text else None

    def _wait_after_429(self, response: httpx.Response, attempt: int) -> float:
        """Retry-After, else the wait for the tokens this request needs at the bucket's replenish rate
        (doubling per attempt), else the backoff but at least ``min_wait_after_429``."""
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        if retry_after is not None:
            return retry_after
        info = RateLimitHeaders.parse(response.headers)
        if info.replenish_rate:
            return info.requested_tokens / info.replenish_rate * 2 ** min(attempt - 1, 4)
        return max(self.policy.min_wait_after_429, self.policy.retry.backoff(attempt))


def _transport_problem(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return type(exc).__name__


def _error_text(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        parts = [str(first[k]) for k in ("title", "detail", "details") if first.get(k)]
        return " - ".join(parts) or None
    error = body.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        return str(message) if message else None
    if isinstance(error, str):
        description = body.get("error_description")
        return f"{error}: {description}" if description else error
    message = body.get("message")
    return str(message) if isinstance(message, str) else None
