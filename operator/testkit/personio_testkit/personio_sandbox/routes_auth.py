"""``POST /v1/auth``, ``POST /v2/auth/token`` and ``POST /v2/auth/revoke``."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse, Response

from personio_testkit.personio_sandbox.responses import oauth_error, v1_error
from personio_testkit.personio_sandbox.state import RequestContext

FORM = "application/x-www-form-urlencoded"
V1_SCOPE = "employees:read"


async def _read_body(ctx: RequestContext) -> tuple[str, dict[str, str] | None]:
    """(media type, fields) — fields None when the body cannot be parsed as its media type says."""
    media_type = ctx.request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await ctx.request.body()
    try:
        if media_type == FORM:
            return media_type, dict(parse_qsl(raw.decode(), keep_blank_values=True))
        if media_type == "application/json":
            data = json.loads(raw or b"{}")
            return media_type, {k: str(v) for k, v in data.items()} if isinstance(data, dict) else None
    except (UnicodeDecodeError, ValueError):
        return media_type, None
    return media_type, {} if not raw else None


async def v1_auth(ctx: RequestContext) -> Response:
    _, fields = await _read_body(ctx)
    fields = dict(fields or {})
    query = dict(ctx.request.query_params)
    if "client_id" in query or "client_secret" in query:
        if not ctx.state.config.v1_query_string_auth:
            return v1_error(
                403,
                "Query-string credentials are no longer accepted: send client_id and client_secret in a JSON "
                "or form body.",
            )
        fields = {**query, **fields}
    client_id, client_secret = fields.get("client_id"), fields.get("client_secret")
    if not client_id or not client_secret:
        return v1_error(
            400,
            "The given data was invalid.",
            errors={k: [f"The {k} field is required."] for k in ("client_id", "client_secret") if not fields.get(k)},
        )
    if not ctx.state.credentials.matches(client_id, client_secret):
        return v1_error(403, "Wrong credentials")
    token, expires_in, _ = ctx.state.credentials.issue()
    return JSONResponse({"success": True, "data": {"token": token, "expires_in": expires_in, "scope": V1_SCOPE}})


async def v2_token(ctx: RequestContext) -> Response:
    now = ctx.state.clock.now()
    media_type, fields = await _read_body(ctx)
    if media_type != FORM or fields is None:
        return oauth_error("invalid_request", "content type must be application/x-www-form-urlencoded", now=now)
    missing = [k for k in ("grant_type", "client_id", "client_secret") if not fields.get(k)]
    if missing:
        return oauth_error(
            "invalid_request",
            "The request is missing required parameters.",
            now=now,
            meta={"missing_parameters": missing},
        )
    if fields["grant_type"] != "client_credentials":
        return oauth_error(
            "unsupported_grant_type",
            "Only the client_credentials grant type is supported.",
            now=now,
            meta={"grant_type": fields["grant_type"]},
        )
    credentials = ctx.state.credentials
    if fields["client_id"] != credentials.client_id:
        return oauth_error("invalid_client", "Client authentication failed: unknown client_id.", now=now)
    if not credentials.matches(fields["client_id"], fields["client_secret"]):
        return oauth_error(
            "unauthorized_client",
            "The credentials were not correct. Make sure you are providing the right client_id and client_secret.",
            now=now,
        )
    requested = frozenset(fields.get("scope", "").split())
    if requested - credentials.scopes:
        return oauth_error(
            "invalid_scope",
            "The requested scope is invalid or not granted to this client.",
            now=now,
            meta={"scope": " ".join(sorted(requested - credentials.scopes))},
        )
    token, expires_in, scopes = credentials.issue(requested or None)
    return JSONResponse(
        {"access_token": token, "token_type": "Bearer", "expires_in": expires_in, "scope": " ".join(sorted(scopes))}
    )


async def v2_revoke(ctx: RequestContext) -> Response:
    now = ctx.state.clock.now()
    media_type, fields = await _read_body(ctx)
    if media_type != FORM or fields is None:
        return oauth_error("invalid_request", "content type must be application/x-www-form-urlencoded", now=now)
    if not fields.get("token"):
        return oauth_error(
            "invalid_request",
            "The request is missing required parameters.",
            now=now,
            meta={"missing_parameters": ["token"]},
        )
    ctx.state.credentials.revoke(fields["token"])
    return Response(status_code=200)
