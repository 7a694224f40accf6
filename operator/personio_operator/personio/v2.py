"""Read all employees through Personio API v2.

``GET /v2/persons`` is walked by cursor (50 per page) while a pool of workers fetches each new
person's employments (Personio has no bulk endpoint) and the names of the org units and workplaces
they reference. Requests are paced by the per-endpoint rate limiters in :mod:`.http`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from personio_operator.personio.errors import PersonioResponseError, PersonioUnavailableError
from personio_operator.personio.http import PersonioHttp
from personio_operator.personio.models import Attribute, FetchResult
from personio_operator.personio.names import OrgUnitNames, WorkplaceNames
from personio_operator.personio.records import Collected, PersonRecord, build_result
from personio_operator.personio.v2_records import (
    apply_employment,
    current_employment,
    next_link,
    page_items,
    parse_person,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 50
PERSONS_ENDPOINT = "/v2/persons"
EMPLOYMENTS_ENDPOINT = "/v2/persons/{id}/employments"
PERSON_ENDPOINT = "/v2/persons/{id}"


@dataclass
class _Walk:
    pages_read: int = 0
    all_pages_read: bool = True
    seen_links: set[str] = field(default_factory=set)


class V2Fetcher:
    def __init__(self, http: PersonioHttp) -> None:
        self._http = http

    async def check_access(self) -> None:
        """One small persons request: proves the token works and the credential may read persons."""
        await self._http.get_json(PERSONS_ENDPOINT, endpoint=PERSONS_ENDPOINT, params={"limit": 1})

    async def person_exists(self, person_id: str) -> bool:
        """Whether Personio knows this person (any status); a 404 is asked again, as Personio's are flaky."""
        status, _ = await self._http.get_json(
            f"/v2/persons/{quote(person_id, safe='')}", endpoint=PERSON_ENDPOINT, accept={404}, retry_not_found=True
        )
        return status != 404

    async def fetch(self, attributes: set[Attribute]) -> FetchResult:
        collected = Collected()
        walk = _Walk()
        org_units = OrgUnitNames(self._http)
        workplaces = WorkplaceNames(self._http)
        want_org_units = bool(attributes & {Attribute.DEPARTMENT, Attribute.TEAM})
        if Attribute.OFFICE in attributes:
            workplaces.prefetch()
        queue: asyncio.Queue[PersonRecord | None] = asyncio.Queue()
        workers = max(1, self._http.policy.max_concurrency - 1)

        async def employments_worker() -> None:
            while (record := await queue.get()) is not None:
                employment = await self._current_employment(record.id)
                if employment is None:
                    collected.warn(f"person {record.id} has no employment in Personio")
                    continue
                apply_employment(record, employment)
                if want_org_units:
                    for kind, ref in (("department", record.department), ("team", record.team)):
                        if ref is not None and Attribute(kind) in attributes:
                            org_units.prefetch(kind, ref.id)

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(workers):
                    group.create_task(employments_worker())
                try:
                    await self._walk_persons(walk, collected, queue)
                finally:
                    for _ in range(workers):
                        queue.put_nowait(None)
            org_names = await org_units.resolved()
            office_names = await workplaces.resolved()
        except BaseExceptionGroup as group_error:
            raise _first_error(group_error) from None
        finally:
            org_units.cancel()
            workplaces.cancel()
        if workplaces.unavailable:
            collected.warn("Personio has no workplaces API for this company (404); office names are unknown")
        log.info(
            "Personio v2: %d persons on %d pages, %d org units, %d workplace pages",
            len(collected.records),
            walk.pages_read,
            org_units.requested,
            workplaces.pages_read,
        )
        return build_result(
            "v2",
            collected,
            attributes,
            pages_read=walk.pages_read,
            all_pages_read=walk.all_pages_read,
            org_names=org_names,
            office_names=office_names,
        )

    async def _walk_persons(self, walk: _Walk, collected: Collected, queue: asyncio.Queue[PersonRecord | None]) -> None:
        url, params = PERSONS_ENDPOINT, {"limit": PAGE_SIZE}
        while True:
            _, body = await self._http.get_json(url, endpoint=PERSONS_ENDPOINT, params=params)
            items = page_items(body)
            if items is None:
                raise PersonioResponseError(
                    f"Personio's GET {PERSONS_ENDPOINT} answer has no _data list; check spec.personio.baseUrl"
                )
            walk.pages_read += 1
            link = next_link(body)
            for item in items:
                record = parse_person(item)
                if record is None:
                    collected.warn(f"a person on page {walk.pages_read} has no id and was skipped")
                elif collected.add(record):
                    queue.put_nowait(record)
            if link is None:
                return
            if not items:
                self._stop(walk, collected, f"page {walk.pages_read} of persons was empty but had a next link")
                return
            url = _pinned(link, PERSONS_ENDPOINT)
            if url in walk.seen_links:
                self._stop(walk, collected, f"Personio repeated a persons cursor after page {walk.pages_read}")
                return
            walk.seen_links.add(url)
            params = None

    @staticmethod
    def _stop(walk: _Walk, collected: Collected, why: str) -> None:
        walk.all_pages_read = False
        collected.warn(f"{why}; stopped paging, so the list of people may be incomplete")

    async def _current_employment(self, person_id: str) -> Mapping[str, Any] | None:
        path = f"/v2/persons/{person_id}/employments"
        url, params = path, {"limit": PAGE_SIZE}
        employments: list[Any] = []
        seen: set[str] = set()
        while True:
            status, body = await self._http.get_json(
                url, endpoint=EMPLOYMENTS_ENDPOINT, params=params, accept={404}, retry_not_found=True
            )
            if status == 404:
                raise PersonioUnavailableError(
                    f"Personio kept answering 404 for the employments of person {person_id}, who was listed a "
                    "moment before (deleted during the fetch, or a Personio fault); the next run will try again"
                )
            items = page_items(body)
            if items is None:
                raise PersonioResponseError(f"Personio's GET {path} answer has no _data list")
            employments.extend(items)
            link = next_link(body)
            if link is None or not items:
                break
            url = _pinned(link, path)
            if url in seen:
                break
            seen.add(url)
            params = None
        return current_employment(employments)


def _pinned(link: str, path: str) -> str:
    """The next link's query on our own endpoint path: a link never moves us to another host or resource."""
    query = dict(parse_qsl(urlsplit(link).query, keep_blank_values=True))
    query.setdefault("limit", str(PAGE_SIZE))
    return f"{path}?{urlencode(query)}"


def _first_error(group: BaseExceptionGroup) -> BaseException:
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return _first_error(error)
        if not isinstance(error, asyncio.CancelledError):
            return error
    return group.exceptions[0]
