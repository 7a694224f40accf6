"""Response bodies in Personio's shapes: v2 problem+json, v2 OAuth errors, the v1 envelope."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse, Response

ERRORS_URL = "https://developer.personio.de/reference/errors"


class ApiError(Exception):
    """Raised inside handlers; rendered in the API's own error format."""

    def __init__(self, status: int, title: str, detail: str, *, code: str = "common.bad_request", meta=None) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code
        self.meta = meta or {}


def bad_parameters(detail: str = "Provided request parameters are invalid.", **meta: str) -> ApiError:
    return ApiError(400, "Bad request", detail, meta=meta)


def v2_problem(status: int, title: str, detail: str, *, now: datetime, code: str, meta=None) -> Response:
    body = {
        "personio_trace_id": str(uuid.uuid4()),
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "errors": [{"title": title, "detail": detail, "type": f"{ERRORS_URL}#{code}", "_meta": dict(meta or {})}],
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def oauth_error(error: str, description: str, *, now: datetime, meta: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {
        "error": error,
        "error_description": description,
        "error_uri": f"{ERRORS_URL}#credentials.oauth2.{error}",
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "trace_id": str(uuid.uuid4()),
    }
    if meta is not None:
        body["meta"] = meta
    return JSONResponse(body, status_code=400, media_type="application/problem+json")


def v1_error(status: int, message: str, *, code: int = 0, errors: dict[str, Any] | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if errors:
        error["errors"] = errors
    return JSONResponse({"success": False, "error": error}, status_code=status)
