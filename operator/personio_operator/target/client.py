"""``ScimClient``: the async SCIM 2.0 protocol client (httpx + scim2-models payloads).

One client talks to one app. It discovers what the server supports, lists users and groups,
and performs the writes the applier asks for. Every request goes through ``_send``: bounded
concurrency, a per-request timeout, ``Retry-After`` on 429 (shared by all requests of the
client), backoff on 5xx and timeouts within one time budget for all of the client's retries, and
typed errors. Creates are never blindly repeated: after an unclear outcome the client looks the
object up first.

PATCH writes only the attributes that changed, so it sends no ``If-Match``; ETags guard the
read-modify-PUT used for servers without PATCH. Bulk is discovered but not used: single requests
give each object its own result and error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import SecretStr

from personio_operator.errors import ConfigurationError, SyncError, TransientError
from personio_operator.http_retry import RETRYABLE_STATUSES, retry_after_seconds
from personio_operator.redaction import clean_untrusted, redact, remember_secret
from personio_operator.target.changes import adoption_changes
from personio_operator.target.discovery import (
    RESOURCE_TYPES,
    SCHEMAS,
    ScimDialect,
    ScimFeatures,
    dialect_from,
    features_from_config,
)
from personio_operator.target.emails import address_spellings, user_name_key
from personio_operator.target.errors import ScimConflictError, ScimRequestError
from personio_operator.target.models import DesiredUser, ScimGroup, ScimUser, TargetState
from personio_operator.target.payloads import (
    PayloadError,
    apply_user_changes,
    group_creation_payload,
    group_rename_payload,
    members_add_payload,
    members_remove_filter_payload,
    members_remove_value_payload,
    parse_error,
    parse_group,
    parse_list_page,
    parse_user,
    quote_filter_value,
    updated_user,
    user_creation_payload,
    user_patch_payload,
)
from personio_operator.target.plan import FieldChange
from personio_operator.target.retry import RetryBudget, backoff_seconds

log = logging.getLogger(__name__)

MEMBERS_PER_PATCH = 100
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SCIM_CONTENT_TYPE = "application/scim+json"
# scimType values with which servers refuse one member-removal form but may accept the other
_REMOVAL_FORM_ERRORS = frozenset({"invalidValue", "invalidPath", "invalidFilter", "invalidSyntax", "noTarget"})
_MAX_PAGES = 100_000
_PAYLOAD_ERROR_LIMIT = 300  # our description of an unreadable answer, with the app's values in it
_SCIM_TYPE_LIMIT = 40

_Item = TypeVar("_Item")


@dataclass
class ScimStats:
    """Requests sent, per kind (``"GET /Users"``, ``"PATCH /Groups"``...), retries included."""

    requests: Counter[str] = field(default_factory=Counter)
    retries: int = 0

    @property
    def writes(self) -> int:
        return sum(count for kind, count in self.requests.items() if kind.split(" ", 1)[0] in WRITE_METHODS)

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def as_dict(self) -> dict[str, Any]:
        return {**dict(sorted(self.requests.items())), "writes": self.writes, "retries": self.retries}


class _UnclearOutcome(Exception):
    """A write may or may not have been applied (timeout, connection lost, 5xx)."""


class ScimClient:
    def __init__(
        self,
        url: str,
        token: SecretStr,
        *,
        max_concurrency: int = 4,
        timeout: float = 30.0,
        budget_seconds: float = 300.0,
        http: httpx.AsyncClient | None = None,
        token_hint: str = "the Secret holding the SCIM bearer token",  # noqa: S107 (a description, not a token)
    ) -> None:
        self.url = url.rstrip("/")
        self._shown_url = redact(self.url)  # for messages and logs: no credential a URL may carry
        self._token = token
        remember_secret(token.get_secret_value())  # apps echo it back: masked wherever it would be shown
        self._timeout = timeout
        self._budget_seconds = budget_seconds
        self._max_concurrency = max_concurrency
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._http = http
        self._owns_http = http is None
        self._token_hint = token_hint
        self._resume_at = 0.0  # monotonic time before which no request is sent (after a 429)
        # All retries of this client share one budget (the app side's share of a run), not one each.
        self._retry_budget = RetryBudget(budget_seconds)
        self._member_removal_form = "filter"
        self._filter_refused = False
        self._patch_refused = False
        self.dialect = ScimDialect()
        self.stats = ScimStats()

    @property
    def features(self) -> ScimFeatures:
        return self.dialect.features

    def __repr__(self) -> str:
        return f"ScimClient(url={self._shown_url!r})"

    async def __aenter__(self) -> Self:
        self._retry_budget = RetryBudget(self._budget_seconds)
        if self._http is None:
            limits = httpx.Limits(max_connections=self._max_concurrency * 2)
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout), limits=limits)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- discovery and reading -------------------------------------------------------------------

    async def discover(self) -> ScimDialect:
        """Read the app's dialect: ``/ServiceProviderConfig``, ``/ResourceTypes``, ``/Schemas`` (see
        ``target.discovery`` for what is assumed when one is missing or unreadable)."""
        features = ScimFeatures()
        response = await self._send("GET", "/ServiceProviderConfig")
        if response.status_code == 200:
            features = features_from_config(self._json(response, "/ServiceProviderConfig"))
        elif response.status_code in (404, 501):
            log.info("%s has no ServiceProviderConfig; using conservative defaults", self._shown_url)
        else:
            raise self._unexpected(response, "GET /ServiceProviderConfig")
        resource_types = await self._discovery_document(RESOURCE_TYPES)
        schemas = await self._discovery_document(SCHEMAS)
        self.dialect = dialect_from(features, resource_types, schemas)
        return self.dialect

    async def _discovery_document(self, path: str) -> Any:
        """The JSON of an optional discovery endpoint; None when the app has none or it cannot be read."""
        try:
            response = await self._send("GET", path)
        except ConfigurationError as error:
            # Some apps keep their schemas from ordinary tokens (403). A token or URL that is wrong for
            # everything fails the /Users listing right after, with the same error.
            log.info("%s: %s is not readable (%s)", self._shown_url, path, error)
            return None
        body = self._json(response, path, allow_empty=True) if response.status_code == 200 else None
        if body is None:
            log.info("%s: no readable %s (HTTP %s)", self._shown_url, path, response.status_code)
        return body

    async def read_state(self) -> TargetState:
        """Every user and group in the app, managed or not. When one listing fails the other is stopped:
        it must not go on sending requests after the client is closed."""
        users, groups = asyncio.create_task(self.list_users()), asyncio.create_task(self.list_groups())
        try:
            await asyncio.wait((users, groups), return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in (users, groups):
                task.cancel()
            await asyncio.gather(users, groups, return_exceptions=True)
        for task in (users, groups):
            failure = None if task.cancelled() else task.exception()
            if failure is not None:
                raise failure
        return TargetState(users=users.result(), groups=groups.result())

    async def list_users(self, scim_filter: str | None = None) -> list[ScimUser]:
        return [parse_user_safely(item) for item in await self._list("/Users", scim_filter)]

    async def list_groups(self, scim_filter: str | None = None) -> list[ScimGroup]:
        return [parse_group_safely(item) for item in await self._list("/Groups", scim_filter)]

    async def _list(self, path: str, scim_filter: str | None) -> list[dict[str, Any]]:
        """All resources, page by page. Advances by the items actually received."""
        found: dict[str, dict[str, Any]] = {}
        start, total = 1, None
        for _ in range(_MAX_PAGES):
            params: dict[str, Any] = {"startIndex": start, "count": self.features.page_size}
            if scim_filter:
                params["filter"] = scim_filter
            response = await self._send("GET", path, params=params)
            if response.status_code == 404 and scim_filter:
                return []  # some servers answer a search without hits with 404
            if response.status_code != 200:
                raise self._unexpected(response, f"GET {path}")
            try:
                items, total = parse_list_page(self._json(response, path))
            except PayloadError as error:
                raise SyncError(
                    f"The SCIM server at {self._shown_url} sent an unreadable list of {path}: "
                    f"{clean_untrusted(error, _PAYLOAD_ERROR_LIMIT)}"
                ) from None
            if not items:
                break
            new = 0
            for item in items:
                key = str(item.get("id")) if isinstance(item, dict) else ""
                if key not in found:
                    new += 1
                found[key] = item
            if new == 0:
                raise TransientError(
                    f"The SCIM server at {self._shown_url} sent the same page of {path} twice (startIndex {start}); "
                    "its paging is unstable, so the list of existing objects would be incomplete"
                )
            start += len(items)
            if total is not None and start > total:
                break
        if total is not None and len(found) < total:
            raise TransientError(
                f"The SCIM server at {self._shown_url} listed {len(found)} of {total} {path.strip('/')}; an incomplete "
                "list could lead to duplicates, so nothing is written this run"
            )
        return list(found.values())

    async def find_users(self, *, external_id: str | None = None, user_name: str | None = None) -> list[ScimUser]:
        """Users with this externalId (exact) or userName (as the planner matches them: ignoring case, the
        domain in either IDNA spelling), by filter where supported."""
        if external_id is not None and user_name is None:
            candidates = await self._filtered(self.list_users, "externalId", external_id)
            return [user for user in candidates if user.external_id == external_id]
        if user_name is None or external_id is not None:
            raise ValueError("give exactly one of external_id and user_name")
        key, found = user_name_key(user_name), {}
        for spelling in address_spellings(user_name):  # a filter compares the spelling it is given
            for user in await self._filtered(self.list_users, "userName", spelling):
                if user_name_key(user.user_name) == key:
                    found.setdefault(user.id, user)
            if not self._filtering:
                break  # that was the full listing
        return list(found.values())

    async def find_groups(self, *, external_id: str | None = None, display_name: str | None = None) -> list[ScimGroup]:
        if (external_id is None) == (display_name is None):
            raise ValueError("give exactly one of external_id and display_name")
        attribute, value = ("externalId", external_id) if external_id is not None else ("displayName", display_name)
        assert value is not None
        candidates = await self._filtered(self.list_groups, attribute, value)
        if external_id is not None:
            return [group for group in candidates if group.external_id == external_id]
        return [group for group in candidates if group.display_name == value]

    @property
    def _filtering(self) -> bool:
        return self.features.filter and not self._filter_refused

    async def _filtered(
        self, lister: Callable[[str | None], Awaitable[list[_Item]]], attribute: str, value: str
    ) -> list[_Item]:
        if self._filtering:
            try:
                return await lister(f"{attribute} eq {quote_filter_value(value)}")
            except ScimRequestError as error:
                if error.status not in (400, 403, 501):
                    raise
                log.info("%s refused a filter (%s); matching on full listings from now on", self._shown_url, error)
                self._filter_refused = True
        return await lister(None)

    # --- users -------------------------------------------------------------------------------------

    async def create_user(self, desired: DesiredUser, *, manager_id: str | None = None) -> ScimUser:
        """Create the user; adopt instead when it already exists (409, or an earlier unclear POST)."""
        payload = user_creation_payload(desired, manager_id=manager_id, dialect=self.dialect)
        budget = RetryBudget(self._budget_seconds)
        while True:
            try:
                response = await self._send("POST", "/Users", body=payload, repeat_unclear=False)
            except _UnclearOutcome as unclear:
                existing = await self._existing_for(desired)
                if existing is not None:
                    log.info("user %s exists after an unclear create (%s)", desired.external_id, unclear)
                    return await self.adopt_user(existing, desired)
                await self._wait_for_retry(budget, f"POST /Users ({unclear})")
                continue
            if response.status_code == 409:
                return await self._resolve_conflict(desired, response)
            if response.status_code not in (200, 201):
                raise self._unexpected(response, f"create user {desired.user_name!r}")
            body = self._json(response, "/Users", allow_empty=True)
            if isinstance(body, dict) and body.get("id"):
                return parse_user_safely(body)
            existing = await self._existing_for(desired)
            if existing is None:
                raise SyncError(
                    f"The SCIM server at {self._shown_url} accepted user {desired.user_name!r} but returned no id "
                    "and the user cannot be found by externalId; check the app's SCIM implementation"
                )
            return existing

    async def adopt_user(self, user: ScimUser, desired: DesiredUser) -> ScimUser:
        """Make an existing app user ours: set our externalId and the attributes that differ."""
        changes = adoption_changes(user, desired)
        if user.external_id == desired.external_id:
            changes = [change for change in changes if change.field != "externalId"]
        await self.patch_user(user.id, changes)
        return updated_user(user, changes)

    async def patch_user(self, user_id: str, changes: Sequence[FieldChange]) -> None:
        """Write only the given attributes (PATCH; read-modify-PUT on servers without PATCH)."""
        if not changes:
            return
        path = f"/Users/{user_id}"
        if self.features.patch and not self._patch_refused:
            response = await self._send("PATCH", path, body=user_patch_payload(changes, dialect=self.dialect))
            if response.status_code not in (405, 501):
                self._check_write(response, f"update user {user_id}")
                return
            self._patch_refused = True
        await self._put_modified(
            path, lambda payload: apply_user_changes(payload, changes, dialect=self.dialect), f"update user {user_id}"
        )

    async def set_active(self, user_id: str, active: bool) -> None:
        await self.patch_user(user_id, [FieldChange(field="active", old=not active, new=active)])

    async def set_manager(self, user_id: str, manager_id: str | None) -> None:
        await self.patch_user(user_id, [FieldChange(field="manager", new=manager_id)])

    async def _existing_for(self, desired: DesiredUser) -> ScimUser | None:
        """Ours by externalId, else an adoptable user by userName (for unclear creates)."""
        by_external_id = await self.find_users(external_id=desired.external_id)
        if by_external_id:
            return by_external_id[0]
        for user in await self.find_users(user_name=desired.user_name):
            if not user.external_id:
                return user
        return None

    async def _resolve_conflict(self, desired: DesiredUser, response: httpx.Response) -> ScimUser:
        holders = await self.find_users(user_name=desired.user_name)
        for user in holders:
            if not user.external_id or user.external_id == desired.external_id:
                log.info("user %s already existed (409); adopting id %s", desired.user_name, user.id)
                return await self.adopt_user(user, desired)
        if holders:
            owner = holders[0]
            raise ScimConflictError(
                f"userName {desired.user_name!r} already belongs to app user {owner.id} with externalId "
                f"{owner.external_id!r}, which this integration does not own; resolve the duplicate in the app",
                status=409,
                scim_type="uniqueness",
            )
        error = parse_error(self._json(response, "/Users", allow_empty=True))
        detail = f" ({clean_untrusted(error.detail)})" if error and error.detail else ""
        raise ScimConflictError(
            f"the app refused user {desired.user_name!r} as a duplicate{detail}, but no user with that userName "
            "exists; another unique attribute (such as the e-mail) is probably taken",
            status=409,
            scim_type="uniqueness",
        )

    # --- groups ------------------------------------------------------------------------------------

    async def create_group(self, external_id: str, display_name: str, member_ids: Sequence[str] = ()) -> ScimGroup:
        first, rest = list(member_ids[:MEMBERS_PER_PATCH]), list(member_ids[MEMBERS_PER_PATCH:])
        payload = group_creation_payload(external_id, display_name, first)
        budget = RetryBudget(self._budget_seconds)
        while True:
            try:
                response = await self._send("POST", "/Groups", body=payload, repeat_unclear=False)
            except _UnclearOutcome as unclear:
                found = await self.find_groups(external_id=external_id)
                if found:
                    group = found[0]
                    missing = [member for member in member_ids if member not in group.member_ids]
                    await self.add_members(group.id, missing)
                    return group.model_copy(update={"member_ids": group.member_ids | set(missing)})
                await self._wait_for_retry(budget, f"POST /Groups ({unclear})")
                continue
            break
        if response.status_code == 409:
            for group in await self.find_groups(display_name=display_name):
                if group.external_id == external_id:
                    missing = [member for member in member_ids if member not in group.member_ids]
                    await self.add_members(group.id, missing)
                    return group.model_copy(update={"member_ids": group.member_ids | set(missing)})
            raise ScimConflictError(
                f"the app refused group {display_name!r} as a duplicate; a group with that name that this "
                "integration does not own exists; rename or remove it in the app",
                status=409,
                scim_type="uniqueness",
            )
        if response.status_code not in (200, 201):
            raise self._unexpected(response, f"create group {display_name!r}")
        body = self._json(response, "/Groups", allow_empty=True)
        if isinstance(body, dict) and body.get("id"):
            group = parse_group_safely(body)
        else:
            found = await self.find_groups(external_id=external_id)
            if not found:
                raise SyncError(
                    f"The SCIM server at {self._shown_url} accepted group {display_name!r} but returned no id"
                )
            group = found[0]
        await self.add_members(group.id, rest)
        return group.model_copy(update={"member_ids": group.member_ids | set(rest)})

    async def rename_group(self, group_id: str, display_name: str) -> None:
        path = f"/Groups/{group_id}"
        if await self._patch_group(path, group_rename_payload(display_name), f"rename group {group_id}"):
            return

        def rename(payload: dict[str, Any]) -> dict[str, Any]:
            return {**payload, "displayName": display_name}

        await self._put_modified(path, rename, f"rename group {group_id}")

    async def add_members(self, group_id: str, member_ids: Sequence[str]) -> None:
        path = f"/Groups/{group_id}"
        for chunk in _chunks(member_ids, MEMBERS_PER_PATCH):
            if await self._patch_group(path, members_add_payload(chunk), f"add members to group {group_id}"):
                continue
            await self._put_modified(path, _with_members(add=chunk), f"add members to group {group_id}")

    async def remove_members(self, group_id: str, member_ids: Sequence[str]) -> None:
        """Remove members, in the RFC filter form or the value-list form, whichever the server takes."""
        path = f"/Groups/{group_id}"
        for chunk in _chunks(member_ids, MEMBERS_PER_PATCH):
            if not self.features.patch or self._patch_refused:
                await self._put_modified(path, _with_members(remove=chunk), f"remove members from group {group_id}")
                continue
            forms = [self._member_removal_form, "value" if self._member_removal_form == "filter" else "filter"]
            for index, form in enumerate(forms):
                build = members_remove_filter_payload if form == "filter" else members_remove_value_payload
                payload = build(chunk)
                response = await self._send("PATCH", path, body=payload)
                if response.status_code in (405, 501):
                    self._patch_refused = True
                    await self._put_modified(path, _with_members(remove=chunk), f"remove members from {group_id}")
                    break
                refused = response.status_code == 400
                error = parse_error(self._json(response, path, allow_empty=True)) if refused else None
                if index == 0 and error is not None and error.scim_type in _REMOVAL_FORM_ERRORS:
                    log.info(
                        "%s refused member removal in the %s form (%s); trying the other", self._shown_url, form, error
                    )
                    continue
                self._check_write(response, f"remove members from group {group_id}")
                self._member_removal_form = form
                break

    async def delete_group(self, group_id: str) -> None:
        response = await self._send("DELETE", f"/Groups/{group_id}")
        if response.status_code == 404:
            return  # already gone
        self._check_write(response, f"remove group {group_id}")

    async def _patch_group(self, path: str, payload: dict[str, Any], what: str) -> bool:
        """PATCH a group; False when the server has no PATCH and the caller must PUT."""
        if not self.features.patch or self._patch_refused:
            return False
        response = await self._send("PATCH", path, body=payload)
        if response.status_code in (405, 501):
            self._patch_refused = True
            return False
        self._check_write(response, what)
        return True

    # --- PUT fallback ------------------------------------------------------------------------------

    async def _put_modified(self, path: str, modify: Callable[[dict[str, Any]], dict[str, Any]], what: str) -> None:
        """Read the full resource, change it and PUT it back, guarded by its ETag where supported."""
        for _ in range(3):
            response = await self._send("GET", path)
            if response.status_code != 200:
                raise self._unexpected(response, what)
            current = self._json(response, path)
            if not isinstance(current, dict):
                raise SyncError(f"The SCIM server at {self._shown_url} sent an unreadable {path}")
            headers: dict[str, str] = {}
            version = response.headers.get("ETag") or (current.get("meta") or {}).get("version")
            if self.features.etag and version:
                headers["If-Match"] = version
            replacement = modify(current)
            replacement.pop("meta", None)
            response = await self._send("PUT", path, body=replacement, headers=headers)
            if response.status_code == 412:
                continue  # changed between our read and write: read again
            self._check_write(response, what)
            return
        raise TransientError(f"{what}: the resource kept changing in the app while we wrote it; retrying next run")

    # --- transport ---------------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        repeat_unclear: bool = True,
    ) -> httpx.Response:
        """One logical request with retries. Raises ``_UnclearOutcome`` instead of repeating when told to."""
        assert self._http is not None, "use 'async with ScimClient(...)'"
        budget = RetryBudget(self._budget_seconds)
        kind = f"{method} /{path.strip('/').split('/', 1)[0]}"
        request_headers = {
            "Authorization": f"Bearer {self._token.get_secret_value()}",
            "Accept": f"{SCIM_CONTENT_TYPE}, application/json;q=0.9, */*;q=0.1",
            **(headers or {}),
        }
        content = None
        if body is not None:
            request_headers["Content-Type"] = SCIM_CONTENT_TYPE
            content = _dumps(body)
        while True:
            await self._respect_cooldown()
            if budget.attempts:
                self.stats.retries += 1
            budget.attempts += 1
            try:
                async with self._semaphore:
                    self.stats.requests[kind] += 1
                    response = await self._http.request(
                        method,
                        f"{self.url}{path}",
                        params=params,
                        content=content,
                        headers=request_headers,
                        timeout=self._timeout,
                    )
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
                raise ConfigurationError(
                    f"The SCIM URL {self._shown_url!r} is not usable ({type(error).__name__}); "
                    "set spec.target.scim.url to the app's SCIM base URL, e.g. https://app.example.com/scim/v2"
                ) from None
            except httpx.TransportError as error:
                problem = f"{type(error).__name__} on {method} {path}"
                log.info("%s: %s", self._shown_url, problem)
                if method in WRITE_METHODS and not repeat_unclear:
                    raise _UnclearOutcome(problem) from None
                await self._wait_for_retry(budget, problem)
                continue
            log.debug("%s %s -> %s", method, path, response.status_code)
            if response.status_code in (401, 403):
                raise self._auth_error(response, method, path)
            if response.status_code == 429:
                delay = retry_after_seconds(response.headers.get("Retry-After"))
                if delay is None:
                    delay = backoff_seconds(budget.attempts)
                self._resume_at = max(self._resume_at, time.monotonic() + delay)
                await self._wait_for_retry(budget, f"HTTP 429 on {method} {path}", delay=delay)
                continue
            if response.status_code in RETRYABLE_STATUSES:
                problem = f"HTTP {response.status_code} on {method} {path}"
                if method in WRITE_METHODS and not repeat_unclear:
                    raise _UnclearOutcome(problem)
                await self._wait_for_retry(budget, problem)
                continue
            return response

    async def _respect_cooldown(self) -> None:
        delay = self._resume_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _wait_for_retry(self, budget: RetryBudget, problem: str, *, delay: float | None = None) -> None:
        if delay is None:
            delay = backoff_seconds(max(1, budget.attempts))
        if not self._retry_budget.allows(delay):
            raise TransientError(
                f"The SCIM server at {self._shown_url} kept failing ({problem}) and the run's time budget for the app "
                f"({self._budget_seconds:.0f}s) is spent; the next run will try again"
            )
        await asyncio.sleep(delay)

    def _json(self, response: httpx.Response, path: str, *, allow_empty: bool = False) -> Any:
        """The body as JSON, whatever the content type says (``text/json``, ``application/json``...)."""
        if not response.content.strip():
            if allow_empty:
                return None
            raise SyncError(f"The SCIM server at {self._shown_url} sent an empty answer for {path}")
        try:
            return json.loads(response.content)
        except ValueError:
            if allow_empty:
                return None
            content_type = clean_untrusted(response.headers.get("Content-Type", ""), _SCIM_TYPE_LIMIT)
            raise ConfigurationError(
                f"{self._shown_url}{path} did not answer with JSON (HTTP {response.status_code}, "
                f"content type {content_type!r}); check that spec.target.scim.url is the app's SCIM base URL"
            ) from None

    def _check_write(self, response: httpx.Response, what: str) -> None:
        if response.status_code in (200, 201, 204):
            return
        raise self._unexpected(response, what)

    def _unexpected(self, response: httpx.Response, what: str) -> SyncError:
        """The app's refusal as an error; what the app said is cleaned, capped and redacted (apps echo
        requests, Authorization header included)."""
        error = parse_error(self._json(response, "", allow_empty=True))
        detail = f": {clean_untrusted(error.detail)}" if error and error.detail else ""
        scim_type = error.scim_type if error else None
        shown_type = f", {clean_untrusted(scim_type, _SCIM_TYPE_LIMIT)}" if scim_type else ""
        if response.status_code == 404 and response.request.url.path.rstrip("/").endswith(
            ("/ServiceProviderConfig", "/Users", "/Groups")
        ):
            return ConfigurationError(
                f"{self._shown_url} has no SCIM endpoint for {what} (HTTP 404); set spec.target.scim.url to the "
                "app's SCIM base URL, e.g. https://app.example.com/scim/v2"
            )
        return ScimRequestError(
            redact(f"{what} was refused by the app (HTTP {response.status_code}{shown_type}){detail}"),
            status=response.status_code,
            scim_type=scim_type,
        )

    def _auth_error(self, response: httpx.Response, method: str, path: str) -> ConfigurationError:
        if response.status_code == 401:
            return ConfigurationError(
                f"The SCIM server at {self._shown_url} refused the bearer token (HTTP 401 on {method} {path}); "
                f"put a valid SCIM token for this app into {self._token_hint}"
            )
        return ConfigurationError(
            f"The SCIM server at {self._shown_url} denied {method} {path} (HTTP 403); the token in {self._token_hint} "
            "needs permission to read and write users and groups"
        )


def parse_user_safely(payload: Any) -> ScimUser:
    try:
        return parse_user(payload)
    except PayloadError as error:
        raise SyncError(
            f"The app sent a user that cannot be read: {clean_untrusted(error, _PAYLOAD_ERROR_LIMIT)}"
        ) from None


def parse_group_safely(payload: Any) -> ScimGroup:
    try:
        return parse_group(payload)
    except PayloadError as error:
        raise SyncError(
            f"The app sent a group that cannot be read: {clean_untrusted(error, _PAYLOAD_ERROR_LIMIT)}"
        ) from None


def _chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[index : index + size]) for index in range(0, len(items), size)]


def _with_members(*, add: Sequence[str] = (), remove: Sequence[str] = ()) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def modify(payload: dict[str, Any]) -> dict[str, Any]:
        members = [m for m in payload.get("members") or [] if isinstance(m, dict) and m.get("value") not in remove]
        present = {member.get("value") for member in members}
        members += [{"value": member_id, "type": "User"} for member_id in add if member_id not in present]
        return {**payload, "members": members}

    return modify


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
