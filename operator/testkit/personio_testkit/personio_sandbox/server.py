"""``SandboxServer``: the sandbox app on 127.0.0.1 in a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn

from personio_testkit.personio_sandbox.app import SandboxApp
from personio_testkit.personio_sandbox.clock import SandboxClock
from personio_testkit.personio_sandbox.company import Company
from personio_testkit.personio_sandbox.config import SandboxConfig
from personio_testkit.personio_sandbox.faults import FaultInjector
from personio_testkit.personio_sandbox.ratelimit import RateLimiter
from personio_testkit.personio_sandbox.state import SandboxState
from personio_testkit.personio_sandbox.stats import SandboxStats
from personio_testkit.personio_sandbox.tokens import Credentials

log = logging.getLogger(__name__)
STARTUP_TIMEOUT_SECONDS = 10.0


class SandboxServer:
    """A running Personio sandbox. Use as ``with`` / ``async with`` or call ``start()`` / ``stop()``.

    ``company``, ``faults``, ``credentials``, ``clock`` and ``stats`` are live: tests change or read
    them while the server runs, and the next request sees the change.
    """

    def __init__(
        self,
        company: Company,
        config: SandboxConfig | None = None,
        *,
        port: int = 0,
        clock: SandboxClock | None = None,
    ) -> None:
        self.config = config or SandboxConfig()
        self.clock = clock or SandboxClock()
        self.company = company
        company.clock = self.clock
        self.credentials = Credentials(self.config, self.clock)
        self.faults = FaultInjector()
        self.stats = SandboxStats()
        self.rate_limiter = RateLimiter(self.config.rate_limit_rules, self.clock)
        self.state = SandboxState(
            company=company,
            config=self.config,
            clock=self.clock,
            credentials=self.credentials,
            faults=self.faults,
            stats=self.stats,
            limiter=self.rate_limiter,
        )
        self._requested_port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port: int | None = None

    def __repr__(self) -> str:
        state = f"running at {self.base_url}" if self.running else "stopped"
        return f"SandboxServer({state}, company={self.company!r})"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("The sandbox is not started: call start() or use it as a context manager.")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; clients append ``/v1/...`` and ``/v2/...``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SandboxServer:
        if self.running:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it, Nagle + delayed ACK add ~40 ms per response.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", self._requested_port))
        sock.listen(128)
        self._socket = sock
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            SandboxApp(self.state),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name=f"personio-sandbox-{self._port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The Personio sandbox did not start on 127.0.0.1:{self._port}.")
            time.sleep(0.005)
        return self

    def _serve(self) -> None:
        assert self._server is not None and self._socket is not None
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            if self._thread.is_alive():
                log.warning("Personio sandbox thread did not stop within 10 s")
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> SandboxServer:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)
