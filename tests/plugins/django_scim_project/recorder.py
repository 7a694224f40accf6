"""Records every SCIM request the server answers, for tests that count writes (not the harness's own)."""

import threading
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

SCIM_PREFIX = "/scim/v2"
SEED_HEADER = "X-Test-Seed"  # as in personio_testkit.scim_app: the harness's own requests

_lock = threading.Lock()
_requests: list[dict[str, Any]] = []


def recorded() -> list[dict[str, Any]]:
    with _lock:
        return list(_requests)


def clear() -> None:
    with _lock:
        _requests.clear()


class RequestRecorder:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        body = request.body if request.method != "GET" else b""
        response = self.get_response(request)
        if request.path.startswith(SCIM_PREFIX) and SEED_HEADER not in request.headers:
            entry = {
                "method": request.method,
                "path": request.path.removeprefix(SCIM_PREFIX),
                "query": request.META.get("QUERY_STRING", ""),
                "status": response.status_code,
                "at": time.monotonic(),
                "body": body.decode("utf-8", "replace"),
            }
            with _lock:
                _requests.append(entry)
        return response
