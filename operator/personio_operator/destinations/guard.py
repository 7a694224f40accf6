"""HTTP clients that can only connect where the policy allows, checked when each connection is made.

httpx hands every new TCP connection to httpcore's network backend with the URL's host name. The
guarded backend resolves that name itself, checks every address against the policy, and connects
to a checked address, so a name that resolved to a public address in the pre-flight check and to a
private one now (DNS rebinding) is refused before a byte is sent. TLS still runs on the name:
httpcore passes the origin's host (not the address connected to) as SNI and for certificate
verification (``AsyncHTTPConnection._connect``, httpcore 1.0). The clients follow no redirects
and ignore proxy and netrc settings from the environment (a proxy would make the connect-time
check see the proxy, not the destination).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import ssl
from collections.abc import Iterable
from dataclasses import dataclass

import anyio
import httpcore
import httpx

from personio_operator.destinations.addresses import IPAddress, Resolver, ip_literal, resolve_host
from personio_operator.destinations.patterns import normalize_host
from personio_operator.destinations.policy import DestinationPolicy, Side

log = logging.getLogger(__name__)

PREFLIGHT_RESOLVE_SECONDS = 10.0


@dataclass(frozen=True)
class DestinationGuard:
    """The policy at work for one run: the pre-flight check and the guarded clients for both sides."""

    policy: DestinationPolicy
    resolver: Resolver = resolve_host

    async def preflight(self, side: Side, url: str) -> None:
        """Raises ``DestinationRefused`` for a URL the policy refuses (resolving wildcard-matched names).

        A name that does not resolve now is left to the connect-time check: the run then fails as for
        any unreachable host, and nothing is sent."""
        destination = self.policy.check_url(side, url)
        if not destination.resolve_and_check:
            return
        try:
            async with asyncio.timeout(PREFLIGHT_RESOLVE_SECONDS):
                addresses = await self.resolver(destination.host, destination.port)
        except (OSError, TimeoutError) as error:
            log.info("pre-flight: %s did not resolve (%s); checked again on connect", destination.host, error)
            return
        self.policy.check_addresses(side, destination, addresses)

    def client(self, side: Side, *, max_connections: int, timeout: float = 30.0) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` whose every connection is checked against the policy for ``side``."""
        backend = GuardedNetworkBackend(self.policy, side, self.resolver)
        transport = _GuardedTransport(backend, httpx.Limits(max_connections=max_connections))
        return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False)


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the policy check between name resolution and connect."""

    def __init__(self, policy: DestinationPolicy, side: Side, resolver: Resolver) -> None:
        self._policy = policy
        self._side = side
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await self._addresses(host, port)
                self._policy.check_connection(self._side, host, port, addresses)
                return await self._connect_first(addresses, port, local_address, socket_options)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"connecting to {host}:{port} timed out") from None

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not a destination the policy can check")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

    async def _addresses(self, host: str, port: int) -> list[IPAddress]:
        literal = ip_literal(normalize_host(host))
        if literal is not None:
            return [literal]
        try:
            addresses = list(await self._resolver(host, port))
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolved to no address")
        return addresses

    async def _connect_first(
        self,
        addresses: list[IPAddress],
        port: int,
        local_address: str | None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> httpcore.AsyncNetworkStream:
        """The first checked address that accepts, in the resolver's order."""
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as error:
                failure = error
        assert failure is not None
        raise failure


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool that uses the guarded backend.

    httpx builds its pool without a way to pass a network backend, so the pool is replaced with an
    identical one that has it (httpx 0.28 keeps it in ``_pool``; the security tests fail if not)."""

    def __init__(self, backend: GuardedNetworkBackend, limits: httpx.Limits) -> None:
        ssl_context = _ssl_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        super().__init__(verify=ssl_context, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


@functools.cache
def _ssl_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """certifi's CAs, or those of SSL_CERT_FILE / SSL_CERT_DIR when set (httpx reads them; they are the key, so
    a change is seen). One context per setting: building one reads the CA bundle, ~25 ms of CPU, and every run
    opens two or three clients."""
    return httpx.create_ssl_context()
