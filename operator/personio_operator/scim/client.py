"""``ScimClient``: the async SCIM 2.0 protocol client (httpx + scim2-models payloads).

One client talks to one app. It discovers what the server supports, lists users and groups,
and performs the writes the applier asks for. Every request is one ``_attempt`` (bounded
concurrency, a per-request timeout, a pause for every request after a 429, typed errors), repeated
by the operator's one retry mechanism (``personio_operator.retrying``): at most ``SCIM_RETRY.max_attempts``
attempts with growing waits, ``Retry-After`` honoured, within the run's time budget for the app.

Creates are never blindly repeated: after an unclear outcome (a timeout, a lost connection, a 5xx
to a POST) the client looks the object up before it posts again, and that look-up-then-post loop
counts toward the same attempt cap. A write that keeps failing fails its object
(``ScimRetriesExhaustedError``) and the run goes on; when half of the last ``BREAKER_WINDOW`` writes
failed that way, the app is failing most requests and the client stops the run
(``ScimUnavailableError``), refusing every further request.

PATCH writes only the attributes that changed, so it sends no ``If-Match``; ETags guard the
read-modify-PUT used for servers without PATCH. Bulk is discovered but not used: single requests
give each object its own result and error.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

import httpx
from pydantic import SecretStr

from personio_operator.bounded_http import AnswerTooLarge, bounded_request
from personio_operator.errors import ConfigurationError, SyncError, TransientError
from personio_operator.http_retry import RETRYABLE_STATUSES, retry_after_seconds
from personio_operator.redaction import clean_untrusted, redact, remember_secret
from personio_operator.retrying import (
    Breaker,
    Budget,
    GaveUp,
    RetryableFailure,
    RetryEvent,
    RetryPolicy,
    StopReason,
    call_with_retries,
)
from personio_operator.scim.discovery import (
    RESOURCE_TYPES,
    SCHEMAS,
    ScimDialect,
    ScimFeatures,
    dialect_from,
    features_from_config,
)
from personio_operator.scim.emails import address_spellings, user_name_key
from personio_operator.scim.errors import (
    ScimConflictError,
    ScimRequestError,
    ScimRetriesExhaustedError,
    ScimUnavailableError,
)
from personio_operator.scim.models import DesiredUser, ScimGroup, ScimUser, TargetState, is_managed_external_id
from personio_operator.scim.payloads import (
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
    user_creation_payload,
    user_patch_payload,
)
from personio_operator.scim.plan import FieldChange

log = logging.getLogger(__name__)

MEMBERS_PER_PATCH = 100
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SCIM_CONTENT_TYPE = "application/scim+json"
# scimType values with which servers refuse one member-removal form but may accept the other
_REMOVAL_FORM_ERRORS = frozenset({"invalidValue", "invalidPath", "invalidFilter", "invalidSyntax", "noTarget"})
_MAX_PAGES = 100_000
_PAYLOAD_ERROR_LIMIT = 300  # our description of an unreadable answer, with the app's values in it
_SCIM_TYPE_LIMIT = 40

# Five attempts per request or object, waits of about 0.5, 1, 2 and 4 s between them (+ up to 25 %):
# a request that keeps failing costs the app 5 requests over ~8-9 s, then its object fails.
SCIM_RETRY = RetryPolicy(max_attempts=5, backoff_base=0.5, backoff_max=30.0, jitter=0.25, retry_after_max=120.0)
# The run stops when 10 of the last 20 writes (creates, updates, deletes) failed even after their retries.
BREAKER_THRESHOLD = 10
BREAKER_WINDOW = 20

_Item = TypeVar("_Item")
_P = ParamSpec("_P")
_R = TypeVar("_R")
# Set while one object's write runs (per task): a request that gives up then fails that object, not the run.
_writing_object: ContextVar[bool] = ContextVar("scim_writing_object", default=False)


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


def _one_object(
    write: Callable[Concatenate[ScimClient, _P], Coroutine[Any, Any, _R]],
) -> Callable[Concatenate[ScimClient, _P], Coroutine[Any, Any, _R]]:
    """Marks a write of one object: its outcome feeds the client's breaker (nested writes count once)."""

    @functools.wraps(write)
    async def one_object(client: ScimClient, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        async with client.object_write():
            return await write(client, *args, **kwargs)

    return one_object


@dataclass(frozen=True)
class ExistingUser:
    """A create found the user already in the app: a 409 for a userName held by a user with no
    externalId (or ours), or a stored user after a POST whose answer was lost. Nothing was written
    to it; the caller decides what to write (``scim.applier.create_or_adopt``)."""

    user: ScimUser


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
        retry: RetryPolicy = SCIM_RETRY,
    ) -> None:
        """``budget_seconds``: the run's time for this app; no retry wait is started that would overrun it.
        ``retry``: attempts and waits per request (tests shorten the waits)."""
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
        self._retry = retry
        # All retries of this client share one budget (the app side's share of a run), not one each.
        self._budget = Budget(budget_seconds)
        self._breaker = Breaker(threshold=BREAKER_THRESHOLD, window=BREAKER_WINDOW)
        self._breaker_tripped: str | None = None  # why the breaker stopped the run: no request is sent after it
        self._member_removal_form = "filter"
        self._filter_refused = False
        self._patch_refused = False
        self.dialect = ScimDialect()
        self.stats = ScimStats()
        self.unreadable: list[str] = []  # app objects we could not read and left alone, in words

    @property
    def features(self) -> ScimFeatures:
        return self.dialect.features

    def __repr__(self) -> str:
        return f"ScimClient(url={self._shown_url!r})"

    async def __aenter__(self) -> Self:
        self._budget = Budget(self._budget_seconds)
        self._breaker = Breaker(threshold=BREAKER_THRESHOLD, window=BREAKER_WINDOW)
        self._breaker_tripped = None
        if self._http is None:
            limits = httpx.Limits(max_connections=self._max_concurrency * 2)
            # The run hands in a client guarded by the destination policy; this one is for direct use.
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout), limits=limits, trust_env=False)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- discovery and reading -------------------------------------------------------------------

    @asynccontextmanager
    async def object_write(self) -> AsyncIterator[None]:
        """The requests of one object's write (a create and the update that completes it) count once
        for the breaker: a failure after retries counts as failed, a clear answer as a working app."""
        if _writing_object.get():
            yield
            return
        token = _writing_object.set(True)
        try:
            yield
        except ScimRetriesExhaustedError as failure:
            self._count_write(failure)
            raise
        except ScimRequestError:
            self._count_write(None)  # the app answered clearly: it is working
            raise
        finally:
            _writing_object.reset(token)
        self._count_write(None)

    async def discover(self) -> ScimDialect:
        """Read the app's dialect: ``/ServiceProviderConfig``, ``/ResourceTypes``, ``/Schemas`` (see
        ``scim.discovery`` for what is assumed when one is missing or unreadable)."""
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
        return self._readable(await self._list("/Users", scim_filter), parse_user, "user")

    async def list_groups(self, scim_filter: str | None = None) -> list[ScimGroup]:
        return self._readable(await self._list("/Groups", scim_filter), parse_group, "group")

    def _readable(self, items: list[Any], parse: Callable[[Any], _Item], kind: str) -> list[_Item]:
        """The items as our models. One the app holds but we cannot read (an ``admin@localhost`` user, a
        malformed attribute) is left alone, with a note in ``unreadable``, unless it is one of ours: then
        planning around it could duplicate it, and the run stops instead."""
        readable = []
        for item in items:
            try:
                readable.append(parse(item))
            except PayloadError as error:
                problem = clean_untrusted(error, _PAYLOAD_ERROR_LIMIT)
                external_id = item.get("externalId") if isinstance(item, dict) else None
                if isinstance(external_id, str) and is_managed_external_id(external_id):
                    raise SyncError(
                        f"The app holds a {kind} of this integration ({clean_untrusted(external_id, 80)}) that "
                        f"cannot be read: {problem}. Fix or remove it in the app, then run again."
                    ) from None
                note = f"An app {kind} cannot be read ({problem}); it is not ours, so it is left alone"
                if note not in self.unreadable:
                    self.unreadable.append(note)
        return readable

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

    @_one_object
    async def create_user(self, desired: DesiredUser, *, manager_id: str | None = None) -> ScimUser | ExistingUser:
        """Create the user, or find the one the app already holds for it (a 409, or an earlier unclear POST)."""
        payload = user_creation_payload(desired, manager_id=manager_id, dialect=self.dialect)

        async def find_existing(unclear: RetryableFailure) -> ExistingUser | None:
            existing = await self._existing_for(desired)
            if existing is None:
                return None
            log.info("user %s exists after an unclear create (%s)", desired.external_id, unclear.problem)
            return ExistingUser(existing)

        response = await self._post_once_stored("/Users", payload, f"create user {desired.user_name!r}", find_existing)
        if not isinstance(response, httpx.Response):
            return response
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

    @_one_object
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

    async def _resolve_conflict(self, desired: DesiredUser, response: httpx.Response) -> ExistingUser:
        """The user holding the userName the app refused, if it has no externalId or ours."""
        holders = await self.find_users(user_name=desired.user_name)
        for user in holders:
            if not user.external_id or user.external_id == desired.external_id:
                log.info("user %s already existed (409): id %s", desired.user_name, user.id)
                return ExistingUser(user)
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

    @_one_object
    async def create_group(self, external_id: str, display_name: str, member_ids: Sequence[str] = ()) -> ScimGroup:
        first, rest = list(member_ids[:MEMBERS_PER_PATCH]), list(member_ids[MEMBERS_PER_PATCH:])
        payload = group_creation_payload(external_id, display_name, first)

        async def complete_existing(unclear: RetryableFailure) -> ScimGroup | None:
            found = await self.find_groups(external_id=external_id)
            if not found:
                return None
            log.info("group %s exists after an unclear create (%s)", external_id, unclear.problem)
            group = found[0]
            missing = [member for member in member_ids if member not in group.member_ids]
            await self.add_members(group.id, missing)
            return group.model_copy(update={"member_ids": group.member_ids | set(missing)})

        response = await self._post_once_stored("/Groups", payload, f"create group {display_name!r}", complete_existing)
        if not isinstance(response, httpx.Response):
            return response
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

    @_one_object
    async def rename_group(self, group_id: str, display_name: str) -> None:
        path = f"/Groups/{group_id}"
        if await self._patch_group(path, group_rename_payload(display_name), f"rename group {group_id}"):
            return

        def rename(payload: dict[str, Any]) -> dict[str, Any]:
            return {**payload, "displayName": display_name}

        await self._put_modified(path, rename, f"rename group {group_id}")

    @_one_object
    async def add_members(self, group_id: str, member_ids: Sequence[str]) -> None:
        path = f"/Groups/{group_id}"
        for chunk in _chunks(member_ids, MEMBERS_PER_PATCH):
            if await self._patch_group(path, members_add_payload(chunk), f"add members to group {group_id}"):
                continue
            await self._put_modified(path, _with_members(add=chunk), f"add members to group {group_id}")

    @_one_object
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

    @_one_object
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
        """Read the full resource, change it and PUT it back, guarded by its ETag where supported.
        A 412 (changed between our read and our write) reads again, within the same attempt cap."""

        async def read_modify_write() -> None:
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
                raise RetryableFailure(f"HTTP 412 on PUT {path}: it changed in the app while we wrote it", status=412)
            self._check_write(response, what)

        await self._with_retries(what, read_modify_write)

    # --- creates: never a duplicate ----------------------------------------------------------------

    async def _post_once_stored(
        self,
        path: str,
        payload: dict[str, Any],
        what: str,
        find_stored: Callable[[RetryableFailure], Awaitable[_Item | None]],
    ) -> httpx.Response | _Item:
        """POST a new resource; the app's answer, or what ``find_stored`` found after an unclear outcome.

        A POST whose outcome is unclear (a timeout, a lost connection, a 5xx: the app may have stored
        it) is never repeated blindly: before the next POST, and after the last one, ``find_stored``
        looks for the resource (by externalId) and completes it. Each POST counts toward the one
        attempt cap, so an object that keeps failing costs at most ``max_attempts`` POSTs."""
        unclear: RetryableFailure | None = None

        async def look_then_post() -> httpx.Response | _Item:
            nonlocal unclear
            if unclear is not None and (stored := await find_stored(unclear)) is not None:
                return stored
            try:
                return await self._attempt("POST", path, body=payload)
            except RetryableFailure as failure:
                unclear = failure if failure.unclear else None
                raise

        try:
            return await call_with_retries(
                look_then_post, policy=self._retry, budget=self._budget, on_retry=self._retrying
            )
        except GaveUp as gave_up:
            if unclear is not None and (stored := await find_stored(unclear)) is not None:
                return stored
            note = " and did not store it (looked up by externalId)" if unclear is not None else ""
            raise self._gave_up(what, gave_up, note=note) from None

    # --- transport ---------------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request, repeated after 429, 5xx and transport failures. For requests that may be
        repeated as they are (GET, PATCH, PUT, DELETE); creates go through ``_post_once_stored``."""

        async def attempt() -> httpx.Response:
            return await self._attempt(method, path, params=params, body=body, headers=headers)

        return await self._with_retries(f"{method} {path}", attempt)

    async def _with_retries(self, what: str, attempt: Callable[[], Awaitable[_R]]) -> _R:
        """``attempt`` under the client's retry policy and budget; giving up becomes a typed error."""
        try:
            return await call_with_retries(attempt, policy=self._retry, budget=self._budget, on_retry=self._retrying)
        except GaveUp as gave_up:
            raise self._gave_up(what, gave_up) from None

    def _retrying(self, event: RetryEvent) -> None:
        self.stats.retries += 1
        log.info(
            "%s: %s (attempt %d of %d), trying again in %.1f s",
            self._shown_url,
            event.failure.problem,
            event.attempt,
            event.max_attempts,
            event.wait,
        )

    def _gave_up(self, what: str, gave_up: GaveUp, *, note: str = "") -> SyncError:
        """Giving up on one object's write after the attempt cap fails that object; running out of the
        run's budget, or an app that asks for too long a wait, stops the run."""
        problem = gave_up.failure.problem
        if gave_up.reason is StopReason.ATTEMPTS and _writing_object.get():
            return ScimRetriesExhaustedError(
                redact(f"{what}: the app kept failing ({problem}) {gave_up.describe()}{note}; the next run retries it"),
                status=gave_up.failure.status,
            )
        return ScimUnavailableError(
            redact(
                f"The SCIM server at {self._shown_url} kept failing ({problem}) {gave_up.describe()}; "
                "the next run will try again"
            )
        )

    def _count_write(self, failure: ScimRetriesExhaustedError | None) -> None:
        """One object's write is done; stop the run when half of the recent ones failed after retries."""
        if not self._breaker.record(failed=failure is not None) or failure is None:
            return
        if self._breaker_tripped is None:
            self._breaker_tripped = (
                f"The SCIM server at {self._shown_url} failed {self._breaker.failures} of the last "
                f"{self._breaker.seen} writes even after {self._retry.max_attempts} attempts each (last: "
                f"{failure.message}); the run stops so as not to overload it. Check that the app is healthy; "
                "the next run will try again"
            )
        raise ScimUnavailableError(self._breaker_tripped) from None

    async def _attempt(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request. Raises ``RetryableFailure`` for 429, 5xx and transport failures
        (``unclear`` when a write may have been applied) and typed errors for what will not change."""
        assert self._http is not None, "use 'async with ScimClient(...)'"
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
        await self._respect_cooldown()
        if self._breaker_tripped is not None:
            raise ScimUnavailableError(self._breaker_tripped)
        try:
            async with self._semaphore:
                self.stats.requests[kind] += 1
                response = await bounded_request(
                    self._http,
                    method,
                    f"{self.url}{path}",
                    deadline=self._timeout * 2,
                    params=params,
                    content=content,
                    headers=request_headers,
                    timeout=self._timeout,
                )
        except AnswerTooLarge as error:
            raise ScimUnavailableError(
                f"The SCIM server at {self._shown_url} answered {method} {path} with {error}; the run stops rather "
                "than read it (check spec.target.scim.url and the app)"
            ) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            raise ConfigurationError(
                f"The SCIM URL {self._shown_url!r} is not usable ({type(error).__name__}); "
                "set spec.target.scim.url to the app's SCIM base URL, e.g. https://app.example.com/scim/v2"
            ) from None
        except httpx.TransportError as error:
            problem = f"{type(error).__name__} on {method} {path}"
            log.info("%s: %s", self._shown_url, problem)
            never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
            raise RetryableFailure(problem, unclear=method in WRITE_METHODS and not never_sent) from None
        log.debug("%s %s -> %s", method, path, response.status_code)
        status = response.status_code
        if status in (401, 403):
            raise self._auth_error(response, method, path)
        if status == 429:  # refused, so nothing was applied; every request of the client pauses
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            pause = self._retry.backoff(1) if asked is None else asked
            if pause <= self._retry.retry_after_max:
                self._resume_at = max(self._resume_at, time.monotonic() + pause)
            raise RetryableFailure(f"HTTP 429 on {method} {path}", status=429, asked=asked)
        if status in RETRYABLE_STATUSES:
            raise RetryableFailure(
                f"HTTP {status} on {method} {path}{self._answer_detail(response)}",
                status=status,
                unclear=method in WRITE_METHODS,
            )
        return response

    async def _respect_cooldown(self) -> None:
        delay = self._resume_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def _answer_detail(self, response: httpx.Response) -> str:
        """``": <the app's error detail>"``, cleaned and short, or nothing (an HTML error page says nothing useful)."""
        error = parse_error(self._json(response, "", allow_empty=True))
        return f": {clean_untrusted(error.detail, _PAYLOAD_ERROR_LIMIT)}" if error and error.detail else ""

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
