"""A real SCIM server for tests, the demo and benches: scim2-server on 127.0.0.1 in a thread.

It wraps the scim2-server WSGI application in a small middleware that records every request,
injects faults (429 with ``Retry-After``, 5xx, slow answers, even after the write was stored, error
details that echo the request's credentials, a connection closed without an answer as a client sees a
timeout, faults aimed at one object by a text in the request body)
and imitates quirks of real targets (``text/json``, unknown attributes, string booleans,
short pages, a server that only takes one member-removal form).

    with ScimTestServer(token="scim-token") as server:
        server.url                                  # http://127.0.0.1:PORT/v2
        server.faults.add(method="POST", path="/Users", status=429, retry_after=1, times=1)
        server.faults.add(method="POST", path="/Users", drop_connection=True, after_processing=True)  # unclear write
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
from scim2_models import ScimProvider, ServiceProviderConfig
from scim2_server.memory import InMemoryStorage
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
from scim2_server.testserver.cli import ThreadingWSGIServer
from scim2_server.utils import load_default_resource_types, load_default_schemas, load_default_service_provider_config

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SEED_HEADER = "X-Test-Seed"  # requests made by the test harness itself are not recorded or faulted
_CONNECTION_KEY = "testserver.connection"  # the client's socket, for faults that close it without an answer

StartResponse = Callable[..., Any]


def hand_made_user(
    user_name: str,
    *,
    external_id: str | None = None,
    active: bool = True,
    given_name: str | None = None,
    family_name: str | None = None,
    email: str | None = None,
    **attributes: Any,
) -> dict[str, Any]:
    """The SCIM payload of a user as a person would create it in an app (an attribute keyed by the
    enterprise schema's URN adds that schema)."""
    payload: dict[str, Any] = {"schemas": [USER_SCHEMA], "userName": user_name, "active": active, **attributes}
    if external_id is not None:
        payload["externalId"] = external_id
    if given_name or family_name:
        payload["name"] = {"givenName": given_name, "familyName": family_name}
    if email:
        payload["emails"] = [{"value": email, "type": "work", "primary": True}]
    if ENTERPRISE_SCHEMA in payload:
        payload["schemas"].append(ENTERPRISE_SCHEMA)
    return payload


def hand_made_group(
    display_name: str, *, external_id: str | None = None, member_ids: Iterable[str] = ()
) -> dict[str, Any]:
    """The SCIM payload of a group as a person would create it in an app."""
    payload: dict[str, Any] = {"schemas": [GROUP_SCHEMA], "displayName": display_name}
    if external_id is not None:
        payload["externalId"] = external_id
    members = [{"value": member_id} for member_id in member_ids]
    if members:
        payload["members"] = members
    return payload


class SeedsHandMade:
    """``add_user`` / ``add_group``: resources created as a person would in the app, through ``_seed``."""

    def add_user(self, user_name: str, **fields: Any) -> dict[str, Any]:
        """Fields as :func:`hand_made_user` takes them."""
        return self._seed("/Users", hand_made_user(user_name, **fields))

    def add_group(
        self, display_name: str, *, external_id: str | None = None, member_ids: Iterable[str] = ()
    ) -> dict[str, Any]:
        return self._seed("/Groups", hand_made_group(display_name, external_id=external_id, member_ids=member_ids))

    def _seed(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


@dataclass
class Fault:
    method: str
    path: str  # "/Users" matches /Users and /Users/<id>
    status: int | None = None
    retry_after: float | str | None = None
    times: int | None = 1  # None: every matching request
    delay_seconds: float = 0.0
    after_processing: bool = False  # the server stores the write first, then stalls or fails
    # The error's detail; like apps that echo the request, it may quote its credentials: {authorization}
    # (the Authorization header), {token} (the credential after the scheme), {token_base64}, {token_url}.
    detail: str = "injected"
    scim_type: str | None = None
    fired: int = 0
    # Close the connection without an answer (what a client sees when its request times out); with
    # ``after_processing`` the server has stored the write first: its outcome is unclear to the client.
    drop_connection: bool = False
    body_contains: str | None = None  # only requests whose body has this text (one object's requests)

    def matches(self, method: str, path: str, body: bytes = b"") -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.body_contains is not None and self.body_contains.encode() not in body:
            return False
        return method == self.method.upper() and (path == self.path or path.startswith(self.path.rstrip("/") + "/"))


@dataclass
class Faults:
    """Faults to inject and quirks to imitate. Safe to change while the server runs."""

    items: list[Fault] = field(default_factory=list)
    content_type: str | None = None  # e.g. "text/json"
    unknown_attributes: bool = False  # add vendor attributes and an unknown extension to resources
    string_booleans: bool = False  # send true/false as "True"/"False"
    max_page_items: int | None = None  # return at most this many resources per page (itemsPerPage unchanged)
    hide_from_lists: set[str] = field(default_factory=set)  # ids left out of list pages (totalResults unchanged)
    refuse_member_removal: str | None = None  # "filter" or "value": answer that form with 400 invalidValue
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(
        self,
        *,
        method: str,
        path: str,
        status: int | None = None,
        retry_after: float | str | None = None,
        times: int | None = 1,
        delay_seconds: float = 0.0,
        after_processing: bool = False,
        detail: str = "injected",
        scim_type: str | None = None,
        drop_connection: bool = False,
        body_contains: str | None = None,
    ) -> Fault:
        fault = Fault(
            method.upper(),
            path,
            status,
            retry_after,
            times,
            delay_seconds,
            after_processing,
            detail,
            scim_type,
            drop_connection=drop_connection,
            body_contains=body_contains,
        )
        with self.lock:
            self.items.append(fault)
        return fault

    def take(self, method: str, path: str, body: bytes = b"") -> Fault | None:
        with self.lock:
            for fault in self.items:
                if fault.matches(method, path, body):
                    fault.fired += 1
                    return fault
        return None

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the /v2 prefix, e.g. "/Users/abc"
    query: str
    status: int
    faulted: bool = False
    at: float = 0.0  # time.monotonic() when the answer was sent
    body: bytes = b""  # request body of writes


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ[_CONNECTION_KEY] = self.connection
        return environ


class ScimTestServer(SeedsHandMade):
    def __init__(
        self,
        token: str = "scim-token",  # noqa: S107 (the test server's well-known token)
        *,
        config: dict[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """``config`` overrides parts of the default ServiceProviderConfig, e.g. ``{"patch": {"supported": False}}``."""
        self.token = token
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self._requests_lock = threading.Lock()
        self._serving = 0  # requests being processed now (an injected delay included)
        self.storage = InMemoryStorage()
        service_config = load_default_service_provider_config().model_dump()
        for key, value in (config or {}).items():
            service_config[key] = {**service_config.get(key, {}), **value} if isinstance(value, dict) else value
        provider_config = ServiceProviderConfig.model_validate(service_config)
        provider_config.authentication_schemes = [BEARER_TOKEN_SCHEME]
        provider = ScimProvider.from_discovery(
            load_default_schemas().values(), load_default_resource_types().values(), config=provider_config
        )
        self.app = BearerTokenApplication(self.storage, provider, bearer_tokens=[token])
        self._host, self._port = host, port
        self._server: ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._seeder: httpx.Client | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> ScimTestServer:
        self._server = make_server(
            self._host, self._port, self._middleware, server_class=ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self._server.request_queue_size = 128
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="scim-test-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._seeder is not None:
            self._seeder.close()
            self._seeder = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ScimTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v2"

    # --- inspection --------------------------------------------------------------------------------

    def writes(self) -> int:
        """Write requests (POST/PUT/PATCH/DELETE) the server received, faulted ones included."""
        with self._requests_lock:
            return sum(1 for request in self.requests if request.method in {"POST", "PUT", "PATCH", "DELETE"})

    def count(self, method: str, path_prefix: str) -> int:
        with self._requests_lock:
            return sum(
                1 for request in self.requests if request.method == method and request.path.startswith(path_prefix)
            )

    def reset_requests(self) -> None:
        with self._requests_lock:
            self.requests.clear()

    @property
    def serving(self) -> int:
        """Requests the server is processing right now: a client that went away may have left some,
        which the server still stores (tests wait for 0 before they look)."""
        with self._requests_lock:
            return self._serving

    def users(self) -> list[dict[str, Any]]:
        """Stored users as the server would serialize them (read from storage, not through a client)."""
        return self._stored("User")

    def groups(self) -> list[dict[str, Any]]:
        return self._stored("Group")

    def _stored(self, resource_type: str) -> list[dict[str, Any]]:
        with self.storage.lock:
            resources = [r for r in self.storage.resources if r.meta and r.meta.resource_type == resource_type]
            return [r.model_dump(mode="json", exclude_none=True) for r in resources]

    # --- seeding hand-made resources ------------------------------------------------------------------

    def _seed(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        if self._seeder is None:
            self._seeder = httpx.Client(headers={"Authorization": f"Bearer {self.token}", SEED_HEADER: "1"}, timeout=10)
        response = self._seeder.post(f"{self.url}{path}", json=payload)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    # --- the middleware ----------------------------------------------------------------------------

    def _middleware(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with self._requests_lock:
            self._serving += 1
        try:
            return self._serve(environ, start_response)
        finally:
            with self._requests_lock:
                self._serving -= 1

    def _serve(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("HTTP_" + SEED_HEADER.upper().replace("-", "_")):
            return self.app(environ, start_response)
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "").removeprefix("/v2") or "/"
        query = environ.get("QUERY_STRING", "")
        body_in = self._read_body(environ) if method != "GET" else b""
        fault = self.faults.take(method, path, body_in)

        if fault is not None and not fault.after_processing:
            time.sleep(fault.delay_seconds)
            if fault.drop_connection:
                return self._drop(method, path, query, start_response, body_in, environ)
            if fault.status is not None:
                return self._reply_fault(fault, method, path, query, start_response, body_in, environ)

        refused = self._refuse_member_removal(body_in, method, path)
        if refused is not None:
            self._record(method, path, query, 400, faulted=True, body=body_in)
            return self._respond(start_response, 400, {}, refused)
        if self.faults.refuse_member_removal == "filter" and method == "PATCH":
            environ["wsgi.input"] = _Replay(_value_removals_as_filters(body_in))
            environ["CONTENT_LENGTH"] = str(len(environ["wsgi.input"].data))

        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        body = b"".join(self.app(environ, capture))
        status_code = int(captured["status"].split(" ", 1)[0])

        if fault is not None and fault.after_processing:
            time.sleep(fault.delay_seconds)
            if fault.drop_connection:
                return self._drop(method, path, query, start_response, body_in, environ)
            if fault.status is not None:
                return self._reply_fault(fault, method, path, query, start_response, body_in, environ)

        headers = dict(captured["headers"])
        quirky = self.faults.unknown_attributes or self.faults.string_booleans or self.faults.max_page_items
        if body and (quirky or self.faults.hide_from_lists):
            body = self._quirk_body(body)
        if self.faults.content_type and body:
            headers["Content-Type"] = self.faults.content_type
        self._record(method, path, query, status_code, faulted=fault is not None, body=body_in)
        return self._respond(start_response, status_code, headers, body)

    def _reply_fault(
        self,
        fault: Fault,
        method: str,
        path: str,
        query: str,
        start_response: StartResponse,
        body_in: bytes,
        environ: dict[str, Any],
    ) -> Iterable[bytes]:
        status = fault.status or 500
        headers = {"Content-Type": "application/scim+json"}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        error: dict[str, Any] = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": str(status),
            "detail": _echoing(fault.detail, environ.get("HTTP_AUTHORIZATION", "")),
        }
        if fault.scim_type is not None:
            error["scimType"] = _echoing(fault.scim_type, environ.get("HTTP_AUTHORIZATION", ""))
        body = json.dumps(error).encode()
        self._record(method, path, query, status, faulted=True, body=body_in)
        return self._respond(start_response, status, headers, body)

    def _drop(
        self,
        method: str,
        path: str,
        query: str,
        start_response: StartResponse,
        body_in: bytes,
        environ: dict[str, Any],
    ) -> Iterable[bytes]:
        """Close the client's connection without an answer (recorded with status 0)."""
        self._record(method, path, query, 0, faulted=True, body=body_in)
        connection = environ.get(_CONNECTION_KEY)
        if connection is not None:
            with contextlib.suppress(OSError):  # the client may have gone already
                connection.shutdown(socket.SHUT_RDWR)
        # wsgiref's attempt to write this answer fails on the closed socket and is dropped quietly.
        start_response("500 Internal Server Error", [("Content-Length", "0")])
        return [b""]

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes:
        """Read the request body and put it back for the application."""
        raw: bytes = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = _Replay(raw)
        return raw

    def _refuse_member_removal(self, raw: bytes, method: str, path: str) -> bytes | None:
        form = self.faults.refuse_member_removal
        if form is None or method != "PATCH" or not path.startswith("/Groups/"):
            return None
        try:
            operations = json.loads(raw).get("Operations", [])
        except ValueError:
            return None
        for operation in operations:
            op_path = str(operation.get("path", ""))
            if str(operation.get("op", "")).lower() != "remove" or not op_path.startswith("members"):
                continue
            used = "filter" if op_path.startswith("members[") else "value"
            if used == form:
                return json.dumps(
                    {
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                        "status": "400",
                        "scimType": "invalidPath" if form == "filter" else "invalidValue",
                        "detail": f"this server does not accept the {form} form of member removal",
                    }
                ).encode()
        return None

    def _quirk_body(self, body: bytes) -> bytes:
        try:
            payload = json.loads(body)
        except ValueError:
            return body
        if not isinstance(payload, dict):
            return body
        resources = payload.get("Resources")
        if isinstance(resources, list):
            if self.faults.max_page_items is not None:
                payload["Resources"] = resources = resources[: self.faults.max_page_items]
            if self.faults.hide_from_lists:
                hidden = self.faults.hide_from_lists
                payload["Resources"] = resources = [r for r in resources if r.get("id") not in hidden]
            for resource in resources:
                self._quirk_resource(resource)
        else:
            self._quirk_resource(payload)
        return json.dumps(payload).encode()

    def _quirk_resource(self, resource: Any) -> None:
        if not isinstance(resource, dict) or "id" not in resource:
            return
        if self.faults.unknown_attributes:
            resource["vendorFlag"] = True
            resource["vendorScore"] = {"level": 3}
            resource["urn:example:params:scim:schemas:extension:vendor:2.0:User"] = {"seat": "premium"}
            resource.setdefault("schemas", []).append("urn:example:params:scim:schemas:extension:vendor:2.0:User")
        if self.faults.string_booleans and isinstance(resource.get("active"), bool):
            resource["active"] = "True" if resource["active"] else "False"

    def _record(self, method: str, path: str, query: str, status: int, *, faulted: bool, body: bytes = b"") -> None:
        with self._requests_lock:
            self.requests.append(RecordedRequest(method, path, query, status, faulted, time.monotonic(), body))

    @staticmethod
    def _respond(start_response: StartResponse, status: int, headers: dict[str, str], body: bytes) -> list[bytes]:
        headers = {key: value for key, value in headers.items() if key.lower() != "content-length"}
        headers["Content-Length"] = str(len(body))
        start_response(f"{status} {HTTPStatus(status).phrase}", list(headers.items()))
        return [body]


def _echoing(template: str, authorization: str) -> str:
    """The template with the request's credentials quoted in it, the way careless apps echo requests."""
    token = authorization.partition(" ")[2]
    echoes = {
        "{authorization}": authorization,
        "{token}": token,
        "{token_base64}": base64.b64encode(token.encode()).decode(),
        "{token_url}": quote(token, safe=""),
    }
    for placeholder, value in echoes.items():
        template = template.replace(placeholder, value)
    return template


def _value_removals_as_filters(raw: bytes) -> bytes:
    """Rewrite value-list member removals (which scim2-server refuses) into the RFC filter form,
    so that the server behaves like one that only takes the value form."""
    try:
        payload = json.loads(raw)
    except ValueError:
        return raw
    operations = []
    for operation in payload.get("Operations", []):
        is_value_removal = str(operation.get("op", "")).lower() == "remove" and operation.get("path") == "members"
        if is_value_removal and isinstance(operation.get("value"), list):
            operations += [
                {"op": "remove", "path": f'members[value eq "{member["value"]}"]'} for member in operation["value"]
            ]
        else:
            operations.append(operation)
    return json.dumps({**payload, "Operations": operations}).encode()


class _Replay:
    """A WSGI input stream over bytes already read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size is None or size < 0 else self._offset + size
        chunk = self.data[self._offset : end]
        self._offset += len(chunk)
        return chunk
