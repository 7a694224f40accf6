"""v2 resources: persons, employments, org units, workplaces (cursor paging, strict filters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from starlette.responses import JSONResponse, Response

from personio_testkit.personio_sandbox.cursors import Cursor
from personio_testkit.personio_sandbox.faults import PageFault
from personio_testkit.personio_sandbox.filters import (
    ListQuery,
    employment_matches,
    parse_list_query,
    person_matches,
)
from personio_testkit.personio_sandbox.models import Person
from personio_testkit.personio_sandbox.render_v2 import V2Renderer
from personio_testkit.personio_sandbox.responses import ApiError, bad_parameters
from personio_testkit.personio_sandbox.state import RequestContext

NOT_FOUND_DETAIL = "There is no resource for the specified id."


def not_found() -> ApiError:
    return ApiError(404, "Resource not found", NOT_FOUND_DETAIL, code="common.resource_not_found")


def _renderer(ctx: RequestContext) -> V2Renderer:
    return V2Renderer(ctx.state.company, ctx.visibility(), ctx.base_url)


def _start(ctx: RequestContext, query: ListQuery, default_limit: int) -> Cursor:
    """The cursor this request continues from (a fresh one for the first page)."""
    if query.cursor is None:
        return Cursor(after=None, page_index=0, limit=query.limit or default_limit, filters=query.filters)
    cursor = Cursor.decode(query.cursor)
    if query.filters and query.filters != cursor.filters:
        raise bad_parameters(cursor="The filters differ from the ones this cursor was created with.")
    if query.limit is not None and query.limit != cursor.limit:
        cursor = Cursor(after=cursor.after, page_index=cursor.page_index, limit=query.limit, filters=cursor.filters)
    return cursor


def _page_body(
    ctx: RequestContext,
    *,
    path: str,
    cursor: Cursor,
    items: list[dict[str, Any]],
    next_after: str | None,
    previous_item: Callable[[], dict[str, Any] | None],
) -> JSONResponse:
    """Apply paging faults, then wrap items with self/next links (next only when more data exists)."""
    next_cursor = None
    if next_after is not None:
        next_cursor = Cursor(
            after=next_after, page_index=cursor.page_index + 1, limit=cursor.limit, filters=cursor.filters
        )
    fault: PageFault
    for fault in ctx.state.faults.take_page_faults(path, cursor.page_index):
        if fault.kind == "drop":
            items = items[: fault.keep]
        elif fault.kind == "duplicate":
            previous = previous_item()
            if previous is not None:
                items = [previous, *items]
        elif fault.kind == "repeat_cursor":
            next_cursor = cursor
    links: dict[str, Any] = {"self": {"href": str(ctx.request.url)}}
    if next_cursor is not None:
        links["next"] = {"href": f"{ctx.base_url}{quote(path)}?cursor={next_cursor.encode()}"}
    return JSONResponse({"_data": items, "_meta": {"links": links}})


async def list_persons(ctx: RequestContext) -> Response:
    config = ctx.state.config
    query = parse_list_query(
        ctx.request.query_params.multi_items(),
        list_filters=("id", "email"),
        text_filters=("first_name", "last_name", "preferred_name"),
        time_filters=("created_at", "updated_at"),
        enum_filters={"status": ("ACTIVE", "INACTIVE")},
        max_limit=config.v2_max_limit,
    )
    cursor = _start(ctx, query, config.v2_default_limit)
    company = ctx.state.company
    render = _renderer(ctx)
    with company.lock:
        after = None if cursor.after is None else _cursor_int(cursor.after)
        found: list[Person] = []
        for person in company.persons_after(after):
            if person_matches(person, cursor.filters):
                found.append(person)
                if len(found) > cursor.limit:
                    break
        page = found[: cursor.limit]
        items = [render.person(p) for p in page]

        def previous() -> dict[str, Any] | None:
            person = company.find_person(after) if after is not None else None
            return render.person(person) if person is not None else None

        return _page_body(
            ctx,
            path="/v2/persons",
            cursor=cursor,
            items=items,
            next_after=str(page[-1].id) if len(found) > cursor.limit else None,
            previous_item=previous,
        )


async def get_person(ctx: RequestContext) -> Response:
    company = ctx.state.company
    with company.lock:
        person = company.find_person(ctx.path_params["person_id"])
        if person is None:
            raise not_found()
        return JSONResponse(_renderer(ctx).person(person))


async def list_employments(ctx: RequestContext) -> Response:
    config = ctx.state.config
    query = parse_list_query(
        ctx.request.query_params.multi_items(),
        list_filters=("id",),
        time_filters=("updated_at",),
        max_limit=config.v2_max_limit,
    )
    cursor = _start(ctx, query, config.v2_default_limit)
    company = ctx.state.company
    with company.lock:
        person = company.find_person(ctx.path_params["person_id"])
        if person is None:
            raise not_found()
        render = _renderer(ctx)
        matching = [e for e in person.employments if employment_matches(e, cursor.filters)]
        offset = _offset(cursor.after)
        page = matching[offset : offset + cursor.limit]
        more = len(matching) > offset + cursor.limit
        return _page_body(
            ctx,
            path=f"/v2/persons/{person.id}/employments",
            cursor=cursor,
            items=[render.employment(person, e) for e in page],
            next_after=str(offset + cursor.limit) if more else None,
            previous_item=lambda: render.employment(person, matching[offset - 1]) if offset > 0 else None,
        )


async def get_employment(ctx: RequestContext) -> Response:
    company = ctx.state.company
    with company.lock:
        person = company.find_person(ctx.path_params["person_id"])
        employment = (
            next((e for e in person.employments if e.id == ctx.path_params["employment_id"]), None) if person else None
        )
        if person is None or employment is None:
            raise not_found()
        return JSONResponse(_renderer(ctx).employment(person, employment))


async def get_org_unit(ctx: RequestContext) -> Response:
    params = ctx.request.query_params
    unknown = set(params) - {"type", "include_parent_chain"}
    if unknown:
        raise bad_parameters(parameter=sorted(unknown)[0])
    kind = params.get("type")
    if kind not in ("department", "team"):
        raise bad_parameters(type="Query parameter 'type' is required: department or team.")
    chain = params.get("include_parent_chain", "false")
    if chain not in ("true", "false"):
        raise bad_parameters(include_parent_chain="Use true or false.")
    company = ctx.state.company
    with company.lock:
        table = company.departments if kind == "department" else company.teams
        unit = table.get(_person_id(ctx.path_params["unit_id"]) or -1)
        if unit is None:
            raise not_found()
        return JSONResponse(_renderer(ctx).org_unit(unit, kind, parent_chain=chain == "true"))


async def list_workplaces(ctx: RequestContext) -> Response:
    config = ctx.state.config
    query = parse_list_query(
        ctx.request.query_params.multi_items(),
        list_filters=("id",),
        text_filters=("name",),
        max_limit=config.v2_max_limit,
    )
    cursor = _start(ctx, query, config.v2_default_limit)
    company = ctx.state.company
    with company.lock:
        ids, name = cursor.filters.get("id"), cursor.filters.get("name")
        matching = [
            w
            for _, w in sorted(company.workplaces.items())
            if (ids is None or str(w.id) in ids) and (name is None or w.name.casefold() == name.casefold())
        ]
        offset = _offset(cursor.after)
        page = matching[offset : offset + cursor.limit]
        more = len(matching) > offset + cursor.limit
        return _page_body(
            ctx,
            path="/v2/workplaces",
            cursor=cursor,
            items=[V2Renderer.workplace(w) for w in page],
            next_after=str(offset + cursor.limit) if more else None,
            previous_item=lambda: V2Renderer.workplace(matching[offset - 1]) if offset > 0 else None,
        )


def _person_id(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _offset(after: str | None) -> int:
    return 0 if after is None else max(0, _cursor_int(after))


def _cursor_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise bad_parameters(cursor="The cursor is invalid: use the next link of the previous page.") from None
