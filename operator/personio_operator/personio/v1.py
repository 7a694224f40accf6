"""Read all employees through Personio API v1 (``GET /v1/company/employees``, offset paging, 100 per page)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from personio_operator.personio.errors import PersonioResponseError
from personio_operator.personio.http import PersonioHttp
from personio_operator.personio.models import Attribute, FetchResult
from personio_operator.personio.records import Collected, build_result
from personio_operator.personio.v1_records import parse_employee

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # Personio's maximum since pagination became mandatory
EMPLOYEES_ENDPOINT = "/v1/company/employees"
EMPLOYEE_ENDPOINT = "/v1/company/employees/{id}"
# Always read, besides the requested attributes (id always comes back).
EXTRA_KEYS = ("preferred_name",)


class V1Fetcher:
    def __init__(self, http: PersonioHttp) -> None:
        self._http = http

    async def check_access(self) -> None:
        await self._http.get_json(EMPLOYEES_ENDPOINT, endpoint=EMPLOYEES_ENDPOINT, params={"limit": 1, "offset": 0})

    async def person_exists(self, person_id: str) -> bool:
        """Whether Personio knows this employee (any status); a 404 is asked again, as Personio's are flaky."""
        status, _ = await self._http.get_json(
            f"{EMPLOYEES_ENDPOINT}/{quote(person_id, safe='')}",
            endpoint=EMPLOYEE_ENDPOINT,
            accept={404},
            retry_not_found=True,
        )
        return status != 404

    async def fetch(self, attributes: set[Attribute]) -> FetchResult:
        keys = sorted({a.value for a in attributes} | set(EXTRA_KEYS))
        collected = Collected()
        pages_read = 0
        read = 0  # records on the pages, repeats included (paging stops when Personio runs out)
        unidentified = 0
        total: int | None = None
        offset = 0
        while True:
            params: list[tuple[str, Any]] = [("limit", PAGE_SIZE), ("offset", offset)]
            params += [("attributes[]", key) for key in keys]
            _, body = await self._http.get_json(EMPLOYEES_ENDPOINT, endpoint=EMPLOYEES_ENDPOINT, params=params)
            items = _page_items(body)
            metadata = body.get("metadata") if isinstance(body.get("metadata"), Mapping) else {}
            total = _count(metadata.get("total_elements"), total)
            total_pages = _count(metadata.get("total_pages"), None)
            pages_read += 1
            if not items:
                break
            read += len(items)
            for item in items:
                record = parse_employee(item)
                if record is None:
                    unidentified += 1
                    collected.warn(f"an employee on page {pages_read} has no id and was skipped")
                else:
                    collected.add(record)
            if len(items) < PAGE_SIZE:
                break
            if total_pages is not None and pages_read >= total_pages and (total is None or read >= total):
                break
            offset += len(items)
        # Offset paging over a list that shifts mid-walk repeats one person and skips another while every
        # page stays full, so completeness is judged by the distinct people read, not by the records.
        distinct = len(collected.records) + unidentified
        all_pages_read = True
        if total is not None and distinct < total:
            all_pages_read = False
            collected.warn(
                f"Personio reported {total} employees but only {distinct} different people could be read "
                f"({read} records); the list may be incomplete (employees changed during the fetch?)"
            )
        log.info("Personio v1: %d employees on %d pages", len(collected.records), pages_read)
        return build_result("v1", collected, attributes, pages_read=pages_read, all_pages_read=all_pages_read)


def _page_items(body: Any) -> list[Any]:
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
        raise PersonioResponseError(
            f"Personio's GET {EMPLOYEES_ENDPOINT} answer has no data list; check spec.personio.baseUrl"
        )
    if body.get("success") is False:
        raise PersonioResponseError(f"Personio's GET {EMPLOYEES_ENDPOINT} answered success=false")
    return body["data"]


def _count(raw: Any, default: int | None) -> int | None:
    """metadata numbers may arrive as strings."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return value if value >= 0 else default
