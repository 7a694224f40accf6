"""Names for the ids a v2 employment carries: org units (one request per distinct id) and workplaces (one list).

Both caches live for one run. Concurrent lookups of the same id share one request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from personio_operator.personio.http import PersonioHttp
from personio_operator.personio.records import identifier, text
from personio_operator.personio.v2_records import next_link, page_items

ORG_UNIT_ENDPOINT = "/v2/org-units/{id}"
WORKPLACES_ENDPOINT = "/v2/workplaces"


class OrgUnitNames:
    """``GET /v2/org-units/{id}?type=department|team``, each distinct (type, id) once."""

    def __init__(self, http: PersonioHttp) -> None:
        self._http = http
        self._tasks: dict[tuple[str, str], asyncio.Task[str | None]] = {}

    def prefetch(self, kind: str, unit_id: str) -> None:
        key = (kind, unit_id)
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._fetch(kind, unit_id))

    async def resolved(self) -> dict[tuple[str, str], str | None]:
        """Wait for every prefetched name; raises the first error a lookup hit."""
        results = await asyncio.gather(*self._tasks.values())
        return dict(zip(self._tasks.keys(), results, strict=True))

    def cancel(self) -> None:
        for task in self._tasks.values():
            task.cancel()

    @property
    def requested(self) -> int:
        return len(self._tasks)

    async def _fetch(self, kind: str, unit_id: str) -> str | None:
        status, body = await self._http.get_json(
            f"/v2/org-units/{unit_id}", endpoint=ORG_UNIT_ENDPOINT, params={"type": kind}, accept={404}
        )
        if status == 404:
            return None
        return _name_of(body)


class WorkplaceNames:
    """``GET /v2/workplaces`` (all pages), read once per run."""

    def __init__(self, http: PersonioHttp) -> None:
        self._http = http
        self._task: asyncio.Task[dict[str, str | None]] | None = None
        self.pages_read = 0
        self.unavailable = False

    def prefetch(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._fetch_all())

    async def resolved(self) -> dict[str, str | None]:
        if self._task is None:
            return {}
        return await self._task

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _fetch_all(self) -> dict[str, str | None]:
        names: dict[str, str | None] = {}
        url: str | None = WORKPLACES_ENDPOINT
        params: dict[str, Any] | None = {"limit": 50}
        seen: set[str] = set()
        while url is not None:
            status, body = await self._http.get_json(url, endpoint=WORKPLACES_ENDPOINT, params=params, accept={404})
            if status == 404:  # the workplaces API is a beta that not every tenant has
                self.unavailable = True
                return names
            self.pages_read += 1
            for item in page_items(body) or []:
                if isinstance(item, Mapping) and (workplace_id := identifier(item.get("id"))):
                    names[workplace_id] = text(item.get("name"))
            link = next_link(body)
            if link is None or link in seen or not page_items(body):
                break
            seen.add(link)
            url, params = link, None
        return names


def _name_of(body: Any) -> str | None:
    if isinstance(body, Mapping):
        data = body.get("_data", body)
        if isinstance(data, list):
            data = data[0] if data else None
        if isinstance(data, Mapping):
            return text(data.get("name"))
    return None
