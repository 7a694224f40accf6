"""v1 personnel data: ``/v1/company/employees`` (offset paging) and its attribute catalogue."""

from __future__ import annotations

import math
from datetime import date, datetime, time

from starlette.responses import JSONResponse, Response

from personio_testkit.personio_sandbox.models import Person
from personio_testkit.personio_sandbox.render_v1 import COMPANY_TIMEZONE, V1Renderer, attribute_catalogue
from personio_testkit.personio_sandbox.responses import v1_error
from personio_testkit.personio_sandbox.state import RequestContext


class V1BadRequest(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _renderer(ctx: RequestContext) -> V1Renderer:
    return V1Renderer(ctx.state.company, ctx.visibility(), ctx.state.config.v1_quirks, ctx.base_url)


def _echo_token(ctx: RequestContext, response: Response) -> Response:
    """v1 echoes the (stable) token in a header, from the days of one-time tokens."""
    if ctx.token:
        response.headers["Authorization"] = f"Bearer {ctx.token}"
    return response


def _int_param(ctx: RequestContext, name: str, default: int) -> int | None:
    raw = ctx.request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return None


def _updated_since(raw: str) -> datetime:
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time.min, tzinfo=COMPANY_TIMEZONE)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise V1BadRequest(
            "updated_since must be a date (2022-12-24) or an ISO 8601 date-time (2022-12-24T08:15:30)."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=COMPANY_TIMEZONE)


def _changed_since(person: Person, since: datetime, keys: set[str] | None) -> bool:
    if not keys:
        return person.last_modified_at > since
    if not person.changed_at:
        return person.last_modified_at > since
    return any(person.changed_at.get(key, since) > since for key in keys)


async def list_employees(ctx: RequestContext) -> Response:
    config = ctx.state.config
    params = ctx.request.query_params
    limit = _int_param(ctx, "limit", config.v1_default_limit)
    if limit is None or not 1 <= limit <= config.v1_max_limit:
        return v1_error(400, f"The limit must be between 1 and {config.v1_max_limit}.")
    offset = _int_param(ctx, "offset", 0)
    if offset is None or offset < 0:
        return v1_error(400, "The offset must be a whole number of 0 or more.")
    projection = set(params.getlist("attributes[]")) | set(params.getlist("attributes")) or None
    try:
        since = _updated_since(params["updated_since"]) if params.get("updated_since") else None
    except V1BadRequest as error:
        return v1_error(400, error.message)
    email = params.get("email")
    company = ctx.state.company
    visibility = ctx.visibility()
    with company.lock:
        persons = company.persons()
        if since is not None:
            keys = None if projection is None else {k for k in projection if visibility.can_read(k)}
            persons = [p for p in persons if _changed_since(p, since, keys)]
        elif email:
            match = company.person_by_email(email)
            persons = [match] if match is not None else []
        total = len(persons)
        page = persons[offset : offset + limit]
        render = _renderer(ctx)
        data = [render.employee(p, projection) for p in page]
        page_index = offset // limit
        for fault in ctx.state.faults.take_page_faults("/v1/company/employees", page_index):
            if fault.kind == "drop":
                data = data[: fault.keep]
            elif fault.kind == "duplicate" and 0 < offset <= total:
                data = [render.employee(persons[offset - 1], projection), *data]
    body = {
        "success": True,
        "metadata": {"total_elements": total, "current_page": page_index, "total_pages": math.ceil(total / limit)},
        "offset": offset,
        "limit": limit,
        "data": data,
    }
    return _echo_token(ctx, JSONResponse(body))


async def get_employee(ctx: RequestContext) -> Response:
    company = ctx.state.company
    with company.lock:
        person = company.find_person(ctx.path_params["employee_id"])
        if person is None:
            german = ctx.state.config.v1_quirks.german_not_found
            return v1_error(404, "Es ist ein Problem aufgetreten " if german else "Employee not found", code=0)
        body = {"success": True, "data": _renderer(ctx).employee(person)}
    return _echo_token(ctx, JSONResponse(body))


async def list_attributes(ctx: RequestContext) -> Response:
    company = ctx.state.company
    with company.lock:
        entries = attribute_catalogue(company, ctx.visibility(), ctx.state.config.v1_quirks)
    return _echo_token(ctx, JSONResponse({"success": True, "data": entries}))
