"""The bench's servers, each in a process of its own: the SCIM app (scim2-server, the test kit's
``ScimTestServer``) and the Personio sandbox (``SandboxServer``, rate limits on).

The process that measures the operator then runs nothing but the operator (or the raw client), so
its CPU time and RSS are the operator's alone and the servers do not share its GIL.

    with ScimServerProcess(token="t") as app:           # app.url, app.stats(), app.reset()
        ...
    with SandboxProcess(employees=1000) as sandbox:      # sandbox.base_url, sandbox.stats(), sandbox.company
        ...

Each process answers commands over a pipe: ``stats`` (requests seen, its own CPU seconds), ``reset``
(forget the requests seen so far) and ``stop``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections import Counter
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Self

STARTUP_TIMEOUT_SECONDS = 120.0  # generating a company of 10,000 people takes a few seconds


def _scim_main(token: str, conn: Connection) -> None:
    from personio_testkit.scim_app import ScimTestServer

    server = ScimTestServer(token=token).start()
    conn.send({"url": server.url})
    try:
        while True:
            command = conn.recv()
            if command == "stats":
                with server._requests_lock:
                    requests = Counter(f"{r.method} /{r.path.strip('/').split('/', 1)[0]}" for r in server.requests)
                conn.send({"requests": dict(requests), "cpu_seconds": time.process_time()})
            elif command == "reset":
                server.reset_requests()
                conn.send(None)
            elif command == "stop":
                break
    finally:
        server.stop()
        conn.send(None)


def _sandbox_main(employees: int, seed: int, conn: Connection) -> None:
    from personio_testkit.personio_sandbox import SandboxConfig, SandboxServer, generate_company

    company = generate_company(employees=employees, seed=seed)
    people = company.persons()
    summary = {
        "people": len(people),
        "org_units": len(
            {("d", p.current.department_id) for p in people if p.current.department_id is not None}
            | {("t", p.current.team_id) for p in people if p.current.team_id is not None}
        ),
        "workplaces": len(company.workplaces),
    }
    server = SandboxServer(company, SandboxConfig()).start()
    conn.send({"url": server.base_url, "company": summary})
    try:
        while True:
            command = conn.recv()
            if command == "stats":
                conn.send(
                    {
                        "calls": server.stats.calls,
                        "rate_limited": server.stats.rate_limited,
                        "cpu_seconds": time.process_time(),
                    }
                )
            elif command == "reset":
                server.stats.reset()
                conn.send(None)
            elif command == "stop":
                break
    finally:
        server.stop()
        conn.send(None)


class _ServerProcess:
    _target: Any
    _args: tuple[Any, ...]

    def __init__(self) -> None:
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self.info: dict[str, Any] = {}

    def start(self) -> Self:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(target=type(self)._target, args=(*self._args, child), daemon=True)
        self._process.start()
        child.close()
        if not parent.poll(STARTUP_TIMEOUT_SECONDS):
            self._process.kill()
            raise RuntimeError(f"{type(self).__name__} did not start within {STARTUP_TIMEOUT_SECONDS:.0f} s")
        self._conn = parent
        self.info = parent.recv()
        return self

    def _ask(self, command: str) -> Any:
        assert self._conn is not None, "not started"
        self._conn.send(command)
        return self._conn.recv()

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._ask("stats")
        return result

    def reset(self) -> None:
        self._ask("reset")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(EOFError, OSError):  # it may have died already
                self._ask("stop")
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(timeout=15)
            if self._process.is_alive():
                self._process.kill()
            self._process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class ScimServerProcess(_ServerProcess):
    """scim2-server (through the test kit's ScimTestServer, no faults) in a process of its own."""

    _target = _scim_main

    def __init__(self, token: str) -> None:
        super().__init__()
        self._args = (token,)

    @property
    def url(self) -> str:
        return str(self.info["url"])


class SandboxProcess(_ServerProcess):
    """The Personio sandbox (generated company, Personio's documented rate limits on) in a process of its own."""

    _target = _sandbox_main

    def __init__(self, employees: int, seed: int = 42) -> None:
        super().__init__()
        self._args = (employees, seed)

    @property
    def base_url(self) -> str:
        return str(self.info["url"])

    @property
    def company(self) -> dict[str, int]:
        return dict(self.info["company"])
