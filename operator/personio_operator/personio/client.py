"""The Personio client the sync engine uses: picks v2 or v1 from the integration's spec.

    async with PersonioClient(source, client_id, client_secret) as client:
        result = await client.fetch_employees(attributes)

Raises only :class:`personio_operator.errors.SyncError` subclasses (see :mod:`.errors`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import SecretStr

from personio_operator import __version__
from personio_operator.api.spec import ApiVersion, PersonioSource
from personio_operator.errors import ConfigurationError
from personio_operator.personio.auth import TokenCache, issue_v1_token, issue_v2_token
from personio_operator.personio.errors import PersonioUnavailableError
from personio_operator.personio.http import Budget, HttpPolicy, PersonioHttp, Redactor
from personio_operator.personio.models import Attribute, FetchResult
from personio_operator.personio.v1 import V1Fetcher
from personio_operator.personio.v2 import V2Fetcher

T = TypeVar("T")


class PersonioClient:
    def __init__(
        self,
        source: PersonioSource,
        client_id: str,
        client_secret: SecretStr,
        *,
        budget_seconds: float = 300.0,
        http: httpx.AsyncClient | None = None,
        credentials_hint: str | None = None,
        policy: HttpPolicy | None = None,
        on_authenticated: Callable[[], None] | None = None,
    ) -> None:
        """``credentials_hint`` (e.g. "Secret tenant-acme/personio-credentials") is added to credential errors;
        ``policy`` overrides timeouts, backoff and concurrency (tests make the waits short);
        ``on_authenticated`` is called each time Personio issues a token (it accepted the credentials)."""
        self.source = source
        self._client_id = client_id.strip()
        self._client_secret = client_secret
        self._budget_seconds = budget_seconds
        self._given_http = http
        self._own_http: httpx.AsyncClient | None = None
        self._credentials_hint = credentials_hint
        self._policy = policy or HttpPolicy()
        self._on_authenticated = on_authenticated
        self._http: PersonioHttp | None = None

    def __repr__(self) -> str:
        return (
            f"PersonioClient(base_url={self.source.base_url!r}, api_version={self.source.api_version.value!r}, "
            f"client_id={self._client_id!r})"
        )

    @property
    def http(self) -> PersonioHttp:
        """The run's HTTP layer (request counts in ``http.stats``); only inside ``async with``."""
        if self._http is None:
            raise RuntimeError("use PersonioClient inside 'async with'")
        return self._http

    async def __aenter__(self) -> Self:
        self._check_credentials_given()
        client = self._given_http
        if client is None:
            client = self._own_http = httpx.AsyncClient(
                timeout=self._policy.timeout,
                limits=httpx.Limits(max_connections=self._policy.max_concurrency + 2),
                follow_redirects=False,
            )
        redactor = Redactor([self._client_secret.get_secret_value()])
        headers = {
            "Accept": "application/json",
            "User-Agent": f"personio-operator/{__version__}",
            "X-Personio-App-ID": self.source.app_id,
        }
        if self.source.partner_id:
            headers["X-Personio-Partner-ID"] = self.source.partner_id
        http = PersonioHttp(
            client,
            self.source.base_url,
            headers=headers,
            policy=self._policy,
            budget=Budget(self._budget_seconds),
            redactor=redactor,
            credentials_hint=self._credentials_hint,
            renew_token_on=(401, 403) if self.source.api_version is ApiVersion.V1 else (401,),
        )
        issue = issue_v1_token if self.source.api_version is ApiVersion.V1 else issue_v2_token

        def token_issued(token: str) -> None:
            redactor.add(token)
            if self._on_authenticated is not None:
                self._on_authenticated()

        http.auth = TokenCache(lambda: issue(http, self._client_id, self._client_secret), on_token=token_issued)
        self._http = http
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._http = None
        if self._own_http is not None:
            await self._own_http.aclose()
            self._own_http = None

    async def fetch_employees(self, attributes: set[Attribute]) -> FetchResult:
        """Every employee with the given attributes; fails rather than return a silently partial list."""
        fetcher = self._fetcher()
        return await self._within_budget(fetcher.fetch(set(attributes)), "reading employees")

    async def people_still_in_personio(self, person_ids: Collection[str]) -> list[str]:
        """Those of ``person_ids`` Personio still knows when asked one by one (paced like every request)."""
        fetcher = self._fetcher()

        async def known(person_id: str) -> str | None:
            return person_id if await fetcher.person_exists(person_id) else None

        async def ask_all() -> list[str]:
            found = await asyncio.gather(*(known(person_id) for person_id in person_ids))
            return [person_id for person_id in found if person_id is not None]

        return await self._within_budget(ask_all(), "confirming who has left")

    async def check_credentials(self) -> None:
        """Authenticate and read one record; raises the typed error that says what to fix."""
        fetcher = self._fetcher()
        await self._within_budget(fetcher.check_access(), "checking the credentials")

    def _fetcher(self) -> V1Fetcher | V2Fetcher:
        return V1Fetcher(self.http) if self.source.api_version is ApiVersion.V1 else V2Fetcher(self.http)

    async def _within_budget(self, work: Coroutine[Any, Any, T], what: str) -> T:
        budget = self.http.budget
        try:
            async with asyncio.timeout(budget.remaining()):
                return await work
        except TimeoutError:
            last = self.http.stats.last_problem
            cause = f" (last problem: {last})" if last else ""
            raise PersonioUnavailableError(
                f"Personio did not finish {what} within the run's time budget of {budget.seconds:g} s{cause}; "
                "the next run will try again"
            ) from None

    def _check_credentials_given(self) -> None:
        given = {"client id": self._client_id, "client secret": self._client_secret.get_secret_value()}
        missing = [name for name, value in given.items() if not value.strip()]
        if missing:
            hint = f" ({self._credentials_hint})" if self._credentials_hint else ""
            raise ConfigurationError(
                f"The Personio {' and '.join(missing)} is empty{hint}: put the API credentials from "
                "Settings > Integrations > API credentials into the Secret"
            )
