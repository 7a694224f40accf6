"""The sandbox's ASGI app: one dispatcher that counts, rate-limits, injects faults and authenticates
every request in the same order, then calls the route's handler."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from personio_testkit.personio_sandbox import routes_auth, routes_v1, routes_v2
from personio_testkit.personio_sandbox.responses import ApiError, v1_error, v2_problem
from personio_testkit.personio_sandbox.state import RequestContext, SandboxState
from personio_testkit.personio_sandbox.tokens import TokenCheck

Handler = Callable[[RequestContext], Awaitable[Response]]
V1_EMPLOYEES_BUCKETS = ("v1_employees_minute", "v1_employees_burst", "v1_global")


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # e.g. "/v2/persons/{person_id}": the key of SandboxStats
    handler: Handler
    api: Literal["v1", "v2"]
    buckets: tuple[str, ...]
    authenticated: bool = True
    scope: str | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", self.template)
        return re.compile(f"^{regex}/?$")


ROUTES: tuple[Route, ...] = (
    Route("POST", "/v1/auth", routes_auth.v1_auth, "v1", ("v1_auth", "v1_global"), authenticated=False),
    Route("GET", "/v1/company/employees", routes_v1.list_employees, "v1", V1_EMPLOYEES_BUCKETS),
    Route("GET", "/v1/company/employees/attributes", routes_v1.list_attributes, "v1", ("v1_global",)),
    Route("GET", "/v1/company/employees/custom-attributes", routes_v1.list_attributes, "v1", ("v1_global",)),
    Route("GET", "/v1/company/employees/{employee_id}", routes_v1.get_employee, "v1", V1_EMPLOYEES_BUCKETS),
    Route("POST", "/v2/auth/token", routes_auth.v2_token, "v2", ("v2_auth",), authenticated=False),
    Route("POST", "/v2/auth/revoke", routes_auth.v2_revoke, "v2", ("v2_auth",), authenticated=False),
    Route("GET", "/v2/persons", routes_v2.list_persons, "v2", ("v2_persons",), scope="personio:persons:read"),
    Route("GET", "/v2/persons/{person_id}", routes_v2.get_person, "v2", ("v2_persons",), scope="personio:persons:read"),
    Route(
        "GET",
        "/v2/persons/{person_id}/employments",
        routes_v2.list_employments,
        "v2",
        ("v2_employments",),
        scope="personio:employments:read",
    ),
    Route(
        "GET",
        "/v2/persons/{person_id}/employments/{employment_id}",
        routes_v2.get_employment,
        "v2",
        ("v2_employments",),
        scope="personio:employments:read",
    ),
    Route(
        "GET",
        "/v2/org-units/{unit_id}",
        routes_v2.get_org_unit,
        "v2",
        ("v2_org_units",),
        scope="personio:org-units:read",
    ),
    Route(
        "GET", "/v2/workplaces", routes_v2.list_workplaces, "v2", ("v2_workplaces",), scope="personio:workplaces:read"
    ),
)
_COMPILED = tuple((route, route.pattern) for route in ROUTES)


def _match(method: str, path: str) -> tuple[Route | None, dict[str, str]]:
    for route, pattern in _COMPILED:
        found = pattern.match(path)
        if found and route.method == method:
            return route, found.groupdict()
    return None, {}


class SandboxApp:
    """ASGI callable. Order per request: count → rate limit → faults → authenticate → handle."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        method, path = request.method.upper(), request.url.path
        route, params = _match(method, path)
        endpoint = f"{method} {route.template if route else path}"
        stats = self.state.stats
        stats.started(endpoint)
        try:
            response = await self._respond(request, route, params, method, path)
            stats.responded(response.status_code)
            await response(scope, receive, send)
        finally:
            stats.finished(endpoint)

    async def _respond(
        self, request: Request, route: Route | None, params: dict[str, str], method: str, path: str
    ) -> Response:
        api = "v1" if path.startswith("/v1") else "v2"
        if route is None:
            return self._not_found(api, method, path)
        headers: dict[str, str] = {}
        if self.state.config.rate_limits:
            decision = self.state.limiter.take(route.buckets)
            headers = decision.headers
            if not decision.allowed:
                response = self._too_many_requests(api)
                if self.state.config.retry_after_on_429:
                    response.headers["Retry-After"] = str(decision.retry_after_seconds)
                return _with_headers(response, headers)
        fault = self.state.faults.take_request_fault(method, path)
        if fault is not None:
            if fault.delay_seconds > 0:
                await asyncio.sleep(fault.delay_seconds)
            if fault.status is not None:
                return _with_headers(self._fault_response(api, fault.status, path), headers)
        ctx = RequestContext(request=request, state=self.state, path_params=params)
        if route.authenticated:
            refusal = self._authenticate(ctx, route)
            if refusal is not None:
                return _with_headers(refusal, headers)
        try:
            response = await route.handler(ctx)
        except ApiError as error:
            response = self._api_error(api, error)
        return _with_headers(response, headers)

    def _authenticate(self, ctx: RequestContext, route: Route) -> Response | None:
        header = ctx.request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            if route.api == "v1":
                return v1_error(401, "Authorization is not provided", code=401)
            return self._unauthorized("The request has no bearer token: send Authorization: Bearer <access token>.")
        check, scopes = self.state.credentials.check(token.strip())
        if check is not TokenCheck.VALID:
            if route.api == "v1":
                return v1_error(403, "Provided authorization is not valid", code=403)
            return self._unauthorized(f"The access token is {check.value}: request a new one from /v2/auth/token.")
        if route.scope and route.scope not in scopes:
            return v2_problem(
                403,
                "Insufficient access scope",
                "Client scope insufficient to access resource",
                now=self.state.clock.now(),
                code="commonforbidden",
                meta={"required_scope": route.scope},
            )
        ctx.token, ctx.scopes = token.strip(), scopes
        return None

    def _unauthorized(self, detail: str) -> Response:
        return v2_problem(401, "Unauthorized Request", detail, now=self.state.clock.now(), code="common.unauthorized")

    def _not_found(self, api: str, method: str, path: str) -> Response:
        if api == "v1":
            return v1_error(404, f"The endpoint {method} {path} was not found.", code=404)
        return v2_problem(
            404,
            "Not Found",
            f"The endpoint with {path} was not found.",
            now=self.state.clock.now(),
            code="apinot_found",
            meta={"path": path},
        )

    def _too_many_requests(self, api: str) -> Response:
        if api == "v1":
            return v1_error(429, "Too Many Requests", code=429)
        detail = "Rate limit exceeded: slow down and retry after at least one second."
        return v2_problem(429, "Too Many Requests", detail, now=self.state.clock.now(), code="common.too_many_requests")

    def _fault_response(self, api: str, status: int, path: str) -> Response:
        if api == "v1":
            return v1_error(status, "Something went wrong", code=status)
        if status == 404:
            return self._api_error(api, routes_v2.not_found())
        detail = f"Injected sandbox fault on {path}."
        return v2_problem(status, "Server error", detail, now=self.state.clock.now(), code="common.server_error")

    def _api_error(self, api: str, error: ApiError) -> Response:
        if api == "v1":
            return v1_error(error.status, error.detail)
        return v2_problem(
            error.status, error.title, error.detail, now=self.state.clock.now(), code=error.code, meta=error.meta
        )


def _with_headers(response: Response, headers: dict[str, str]) -> Response:
    for name, value in headers.items():
        response.headers[name] = value
    return response
