"""A second real SCIM app for the tests: django-scim2-server (Django + sqlite) on 127.0.0.1.

Strict where scim2-server is lenient: core schemas only (an enterprise extension in a POST or PUT is
refused), attributes it has no column for are dropped silently, users are soft-deleted, a duplicate
group displayName is an HTML 500, filters compare case-insensitively. See
``tests/scim/test_django_scim_dialect.py`` for every observed behaviour.

One server process per test session (started on first use, ~1-2 s: Django set-up, migrations,
uvicorn), emptied before every test (~10 ms), so each test sees a fresh app:

    async def test_x(django_scim_server):
        django_scim_server.url                  # http://127.0.0.1:PORT/scim/v2
        django_scim_server.token                # the bearer token it accepts
        django_scim_server.add_user("a@acme.example", external_id="personio:1")
        django_scim_server.users(), .groups()   # what it holds, read over raw HTTP (all pages)
        django_scim_server.writes(), .requests  # SCIM requests it answered, the harness's own excluded

The interface mirrors ``ScimTestServer`` (``url``, ``token``, ``users``, ``groups``, ``add_user``,
``add_group``, ``requests``, ``writes``, ``count``, ``reset_requests``) without fault injection.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from personio_testkit.scim_app import SEED_HEADER, RecordedRequest, SeedsHandMade
from tests.plugins.scim_server import SCIM_TOKEN

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
PAGE_SIZE = 1000  # the server's own maximum for ``count``


class DjangoScimServer(SeedsHandMade):
    """django-scim2-server in a child process, serving a socket this process bound (no port race).
    Hand-made users here carry core attributes only: this app refuses extensions."""

    def __init__(self, workdir: Path, token: str = SCIM_TOKEN) -> None:
        self.token = token
        self.workdir = workdir
        self.database = workdir / "scim.sqlite3"
        self.log_path = workdir / "server.log"
        self._socket: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._http: httpx.Client | None = None
        self.started_in_seconds: float | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> DjangoScimServer:
        began = time.monotonic()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self._socket.set_inheritable(True)
        env = {
            **os.environ,
            "SCIM_TEST_DATABASE": str(self.database),
            "SCIM_TEST_TOKEN": self.token,
            "DJANGO_SETTINGS_MODULE": "tests.plugins.django_scim_project.settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        self._log = self.log_path.open("wb")
        fd = self._socket.fileno()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.plugins.django_scim_project.serve", str(fd)],
            cwd=REPO_ROOT,
            env=env,
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._http = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.token}", SEED_HEADER: "1"}, timeout=10
        )
        self._wait_until_ready()
        self.started_in_seconds = time.monotonic() - began
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        assert self._process is not None and self._http is not None
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"django-scim2-server exited with {self._process.returncode}:\n{self.server_log()}")
            try:
                response = self._http.get("/scim/v2/ServiceProviderConfig", timeout=1.0)
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"django-scim2-server did not answer within {START_TIMEOUT_SECONDS:.0f}s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
            self._process = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def reset(self) -> None:
        """Empty the app (every user and group) and forget the recorded requests."""
        self._harness_call("POST", "/testing/reset")

    def server_log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def base_url(self) -> str:
        assert self._socket is not None, "server not started"
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The SCIM base URL, as an admin would configure it."""
        return f"{self.base_url}/scim/v2"

    # --- inspection --------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        entries = self._harness_call("GET", "/testing/requests").json()["requests"]
        return [
            RecordedRequest(
                method=entry["method"],
                path=entry["path"],
                query=entry["query"],
                status=entry["status"],
                at=entry["at"],
                body=entry["body"].encode(),
            )
            for entry in entries
        ]

    def writes(self) -> int:
        """Write requests (POST/PUT/PATCH/DELETE) the server answered, refused ones included."""
        return sum(1 for request in self.requests if request.method in {"POST", "PUT", "PATCH", "DELETE"})

    def count(self, method: str, path_prefix: str) -> int:
        return sum(1 for request in self.requests if request.method == method and request.path.startswith(path_prefix))

    def reset_requests(self) -> None:
        self._harness_call("DELETE", "/testing/requests")

    def users(self) -> list[dict[str, Any]]:
        """Every user the app lists (soft-deleted ones included: it lists them), read over raw HTTP."""
        return self._list("/Users")

    def groups(self) -> list[dict[str, Any]]:
        return self._list("/Groups")

    def _list(self, path: str) -> list[dict[str, Any]]:
        assert self._http is not None, "server not started"
        resources: list[dict[str, Any]] = []
        while True:
            response = self._http.get(f"/scim/v2{path}", params={"startIndex": len(resources) + 1, "count": PAGE_SIZE})
            response.raise_for_status()
            page = response.json()
            resources += page.get("Resources", [])
            if not page.get("Resources") or len(resources) >= page["totalResults"]:
                return resources

    # --- seeding hand-made resources ----------------------------------------------------------------

    def _seed(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert self._http is not None, "server not started"
        response = self._http.post(f"/scim/v2{path}", content=json.dumps(payload))
        if response.status_code != 201:
            raise AssertionError(f"seeding {path} failed: HTTP {response.status_code} {response.text[:500]}")
        result: dict[str, Any] = response.json()
        return result

    def _harness_call(self, method: str, path: str) -> httpx.Response:
        assert self._http is not None, "server not started"
        response = self._http.request(method, path)
        response.raise_for_status()
        return response


@pytest.fixture(scope="session")
def django_scim_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DjangoScimServer]:
    """The one server process of the session; tests use ``django_scim_server``, which empties it first."""
    server = DjangoScimServer(tmp_path_factory.mktemp("django-scim")).start()
    yield server
    server.stop()


@pytest.fixture
def django_scim_server(django_scim_process: DjangoScimServer) -> DjangoScimServer:
    """django-scim2-server with no users, no groups and no recorded requests."""
    django_scim_process.reset()
    return django_scim_process
