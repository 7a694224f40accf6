"""The Kubernetes API calls the controller makes itself (kopf only watches): read an integration fresh,
patch its status, remove what earlier versions left in its metadata, post Events, and ``get`` a Secret
(never list or watch Secrets).

It authenticates with the credentials kopf logged in with (the login handler hands them over),
so it works in-cluster, with a kubeconfig, and against KMock alike.

Every namespace and name that goes into a URL is checked against the Kubernetes name rules and
percent-escaped before any request is built, so a hostile name (``../other-ns/secrets/x``, encoded
slashes, look-alike characters) can never address another object or namespace.
"""

from __future__ import annotations

import logging
import re
import ssl
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import kopf

from personio_operator.api import GROUP, PLURAL, VERSION
from personio_operator.http_retry import RETRYABLE_STATUSES, retry_after_seconds
from personio_operator.retrying import GaveUp, RetryableFailure, RetryEvent, RetryPolicy, call_with_retries

log = logging.getLogger(__name__)
T = TypeVar("T")

_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# A status write or a read: three attempts in all, about 0.5 s and 1 s apart (the operator's one retry mechanism).
KUBE_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.5, backoff_max=5.0, jitter=0.25, retry_after_max=30.0)
# A merge patch of /status carries no resourceVersion, so a 409 is the server's own contention and
# sending the same patch again is safe, as it is after throttling or a server failure.
_STATUS_RETRY_STATUSES = RETRYABLE_STATUSES | {409}


class KubeError(Exception):
    """A Kubernetes API call failed; the message is safe to show."""

    def __init__(self, message: str, *, status_code: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after  # seconds, from the answer's Retry-After header


class _TransportFailure(KubeError):
    """The request may not have reached the API server, or its answer was lost on the way."""


class InvalidNameError(KubeError):
    """A namespace or object name that breaks the Kubernetes name rules: no request was sent."""


# Kubernetes' own rules (RFC 1123): a namespace is a DNS label, an object name a DNS subdomain.
# ASCII only, checked whole (fullmatch), so no trailing newline, look-alike or escape gets through.
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_MAX_LABEL = 63
_MAX_SUBDOMAIN = 253


def is_namespace(value: object) -> bool:
    return isinstance(value, str) and len(value) <= _MAX_LABEL and _DNS_LABEL.fullmatch(value) is not None


def is_object_name(value: object) -> bool:
    return isinstance(value, str) and len(value) <= _MAX_SUBDOMAIN and _DNS_SUBDOMAIN.fullmatch(value) is not None


def shown(value: object, limit: int = 80) -> str:
    """A hostile value made safe to quote in a message: escaped (repr) and cut short."""
    text = value if isinstance(value, str) else str(type(value).__name__)
    return repr(text[:limit] + ("..." if len(text) > limit else ""))


def namespace_segment(namespace: object) -> str:
    """``namespace`` as a URL path segment; raises InvalidNameError unless it is a valid namespace name."""
    if not is_namespace(namespace):
        raise InvalidNameError(
            f"namespace {shown(namespace)} is not a valid Kubernetes namespace name "
            "(lower-case letters, digits and '-', at most 63 characters)"
        )
    return quote(str(namespace), safe="")


def name_segment(name: object) -> str:
    """``name`` as a URL path segment; raises InvalidNameError unless it is a valid object name."""
    if not is_object_name(name):
        raise InvalidNameError(
            f"name {shown(name)} is not a valid Kubernetes object name "
            "(lower-case letters, digits, '-' and '.', at most 253 characters)"
        )
    return quote(str(name), safe="")


class KubeApi:
    def __init__(self, *, retry: RetryPolicy = KUBE_RETRY) -> None:
        """``retry``: attempts and waits of a status write or a read (tests shorten the waits)."""
        self._retry = retry
        self._client: httpx.AsyncClient | None = None
        self._files = ExitStack()
        self._retired: list[tuple[httpx.AsyncClient, ExitStack]] = []  # replaced at re-login; closed at exit

    def use(self, info: kopf.ConnectionInfo) -> None:
        """Switch to the credentials kopf just logged in with (called from the login handler)."""
        old, self._client = self._client, None
        files, self._files = self._files, ExitStack()
        headers = {"Accept": "application/json"}
        if info.token:
            headers["Authorization"] = f"{info.scheme or 'Bearer'} {info.token}"
        auth = httpx.BasicAuth(info.username, info.password) if info.username and info.password else None
        self._client = httpx.AsyncClient(
            base_url=info.server.rstrip("/"),
            headers=headers,
            auth=auth,
            verify=self._ssl_context(info) if info.server.startswith("https") else False,
            timeout=_TIMEOUT,
            trust_env=info.trust_env,
        )
        if old is not None:
            self._retired.append((old, files))

    async def aclose(self) -> None:
        if self._client is not None:
            self._retired.append((self._client, self._files))
            self._client, self._files = None, ExitStack()
        for client, files in self._retired:
            await client.aclose()
            files.close()
        self._retired.clear()

    async def get_integration(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self._get(self._integration_path(namespace, name))

    async def patch_integration_status(self, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Merge ``patch`` into the status. A merge patch is idempotent, so it is retried like a read:
        losing the write at the end of a run would lose its result."""
        self._integration_path(namespace, name)  # refuse a bad name before the first attempt
        return await self._retrying(
            f"Status write of {namespace}/{name}", self._patch_once, namespace, name, "/status", {"status": patch}
        )

    async def patch_integration_metadata(self, namespace: str, name: str, metadata: dict[str, Any]) -> dict[str, Any]:
        """Merge ``metadata`` into the object's metadata (used to remove annotations, never to change the spec)."""
        self._integration_path(namespace, name)
        return await self._retrying(
            f"Metadata write of {namespace}/{name}", self._patch_once, namespace, name, "", {"metadata": metadata}
        )

    async def _retrying(self, what: str, call: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run an idempotent call, retrying transport errors, 409, 429 and 5xx a few times; the last
        ``KubeError`` is raised when they do not pass."""

        async def attempt() -> T:
            try:
                return await call(*args)
            except KubeError as err:
                if not isinstance(err, _TransportFailure) and err.status_code not in _STATUS_RETRY_STATUSES:
                    raise
                raise RetryableFailure(str(err), status=err.status_code, asked=err.retry_after, error=err) from None

        def retrying(event: RetryEvent) -> None:
            log.warning(
                "%s failed (attempt %d of %d, next in %.1f s): %s",
                what,
                event.attempt,
                event.max_attempts,
                event.wait,
                event.failure.problem,
            )

        try:
            return await call_with_retries(attempt, policy=self._retry, on_retry=retrying)
        except GaveUp as gave_up:
            assert isinstance(gave_up.failure.error, KubeError)
            raise gave_up.failure.error from None

    async def _patch_once(self, namespace: str, name: str, subresource: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self._integration_path(namespace, name)}{subresource}"
        response = await self._request(
            "PATCH", url, json=body, headers={"Content-Type": "application/merge-patch+json"}
        )
        if response.status_code >= 400:
            what = "the status" if subresource else "the metadata"
            raise KubeError(
                f"patching {what} of {namespace}/{name} failed with HTTP {response.status_code}",
                status_code=response.status_code,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        return response.json()

    async def post_event(
        self, involved: Mapping[str, Any], *, type_: str, reason: str, message: str, component: str, now: datetime
    ) -> None:
        """Post a core/v1 Event directly: kopf's own poster has stopped by the time the operator exits."""
        meta = involved["metadata"]
        url = f"/api/v1/namespaces/{namespace_segment(meta['namespace'])}/events"
        stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": "personio-operator-", "namespace": meta["namespace"]},
            "involvedObject": {
                "apiVersion": involved.get("apiVersion"),
                "kind": involved.get("kind"),
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "type": type_,
            "reason": reason,
            "message": message,
            "source": {"component": component},
            "reportingComponent": component,
            "reportingInstance": component,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        response = await self._request("POST", url, json=event)
        if response.status_code >= 400:
            raise KubeError(
                f"posting an Event failed with HTTP {response.status_code}", status_code=response.status_code
            )

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The Secret, or None if it does not exist. Raises InvalidNameError (before any request) for a
        namespace or name that is not a valid Kubernetes name."""
        return await self._get(f"/api/v1/namespaces/{namespace_segment(namespace)}/secrets/{name_segment(name)}")

    @staticmethod
    def _integration_path(namespace: str, name: str) -> str:
        return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace_segment(namespace)}/{PLURAL}/{name_segment(name)}"

    async def _get(self, url: str) -> dict[str, Any] | None:
        return await self._retrying(f"GET {url}", self._get_once, url)

    async def _get_once(self, url: str) -> dict[str, Any] | None:
        response = await self._request("GET", url)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise KubeError(
                f"GET {url} failed with HTTP {response.status_code}",
                status_code=response.status_code,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        return response.json()

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if self._client is None:
            raise KubeError("not logged in to the Kubernetes API yet")
        try:
            return await self._client.request(method, url, **kwargs)
        except httpx.TransportError as err:
            raise _TransportFailure(f"{method} {url} failed: {type(err).__name__}") from None
        except httpx.HTTPError as err:
            raise KubeError(f"{method} {url} failed: {type(err).__name__}") from None

    def _ssl_context(self, info: kopf.ConnectionInfo) -> ssl.SSLContext:
        if info.insecure:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            cadata = info.ca_data.decode() if isinstance(info.ca_data, bytes) else info.ca_data
            context = ssl.create_default_context(cafile=info.ca_path, cadata=cadata)
        certificate = info.certificate_path or self._to_file(info.certificate_data)
        key = info.private_key_path or self._to_file(info.private_key_data)
        if certificate:
            context.load_cert_chain(certificate, key)
        return context

    def _to_file(self, data: str | bytes | None) -> str | None:
        if not data:
            return None
        handle = self._files.enter_context(tempfile.NamedTemporaryFile(suffix=".pem"))  # noqa: SIM115
        handle.write(data.encode() if isinstance(data, str) else data)
        handle.flush()
        return handle.name
