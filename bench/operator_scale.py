"""Benchmark: N integrations served by one operator process, all due at once.

    .venv/bin/python bench/operator_scale.py                                   # 300 integrations
    .venv/bin/python bench/operator_scale.py --integrations 300 --integrations 1000
    .venv/bin/python bench/operator_scale.py --integrations 300 --profile /tmp/operator.prof

KMock is the Kubernetes API (the tests' RealisticEmulator), in this process. A second process serves
one small Personio sandbox company per integration (``--employees``, default 50) behind one HTTP
server, each under its own path, and one SCIM tenant per integration (a scim2-server app with its own
storage and token), ten tenants per server under their own paths, so no integration sees another's
users. The operator runs in a third process, built as ``personio-operator run`` builds it: it is what
is measured. The three share the machine's cores, so a run's wall time includes waiting for the others.

Phases, per N:
  single     one integration alone: the wall time of its activation run and of a run that changes
             nothing: the single-run times of the ideal.
  activation N integrations exist when the operator starts: time until all activation runs are done
             vs ceil(N / concurrency) x the single activation run.
  idle       nothing due for ``--idle-seconds``: CPU seconds (as per hour), requests to the API other
             than the watch (as per minute), and the watch's (re)connections.
  scheduled  every integration's schedule slot is the same minute: time until all ran vs
             ceil(N / concurrency) x the single no-op run.
Reported: CPU-seconds per run and per object (written in activation, unchanged in scheduled: both
include each run's fixed costs), the operator's peak RSS, and with ``--profile`` where its CPU time
goes (cProfile of the operator process from start to stop: the activation and idle phases, the
scheduled phase is skipped; profiling slows it down, so its timings are not the ones reported; the
time in ``select.epoll.poll`` is waiting, not CPU). Targets: <= 1.3x the ideal, <= 1 ms CPU
per written object, <= 0.1 ms per unchanged one, RSS < 400 MB, idle CPU < 10 s per hour, idle API
traffic only the watch.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import math
import multiprocessing
import os
import pstats
import resource
import socket
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "operator")]

import httpx  # noqa: E402
import kmock  # noqa: E402
import uvicorn  # noqa: E402
from scim2_server.testserver.cli import ThreadingWSGIServer  # noqa: E402
from tests.controller.emulator import RealisticEmulator  # noqa: E402
from tests.controller.harness import declare_resources  # noqa: E402

from personio_operator.api import GROUP, KIND, PLURAL, VERSION  # noqa: E402
from personio_testkit.personio_sandbox import (  # noqa: E402
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SandboxConfig,
    SandboxServer,
    generate_company,
)
from personio_testkit.personio_sandbox.app import SandboxApp  # noqa: E402
from personio_testkit.scim_app import ScimTestServer, _QuietHandler  # noqa: E402

NAMESPACE = "bench"
TOKEN = "bench-operator-token"
TENANTS_PER_SCIM_SERVER = 10
RSS_TARGET_MB = 400
IDLE_CPU_TARGET = 10.0  # seconds per hour
RATIO_TARGET = 1.3
CORES = len(os.sched_getaffinity(0))

# -- the world: Personio companies and SCIM tenants, each under its own path ------------------------------


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    return sock


class PersonioCompanies:
    """One sandbox company per integration, served at http://127.0.0.1:PORT/c/<n>."""

    def __init__(self, count: int, employees: int) -> None:
        config = SandboxConfig(rate_limits=False)
        self.apps = {
            str(n): SandboxApp(SandboxServer(generate_company(employees=employees, seed=n), config).state)
            for n in range(count)
        }
        self._socket = _listening_socket()
        self.port = self._socket.getsockname()[1]
        server_config = uvicorn.Config(self, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(server_config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[self._socket])), daemon=True
        )
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        _, _, tenant, rest = (scope["path"] + "/").split("/", 3)
        path = "/" + rest.rstrip("/")
        await self.apps[tenant]({**scope, "path": path, "raw_path": path.encode()}, receive, send)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


class ScimTenants:
    """One scim2-server app (own storage, own token) per integration, ten per server, each at /t/<n>/v2."""

    def __init__(self, count: int) -> None:
        self.apps = {str(n): ScimTestServer(token=self.token(n)).app for n in range(count)}
        self._servers: list[ThreadingWSGIServer] = []
        for _ in range(0, count, TENANTS_PER_SCIM_SERVER):
            server = ThreadingWSGIServer(("127.0.0.1", 0), _QuietHandler)
            server.request_queue_size = 512
            server.set_app(self._dispatch)
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True).start()
            self._servers.append(server)

    @staticmethod
    def token(n: int) -> str:
        return f"bench-scim-token-{n}"

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        _, _, tenant, rest = environ.get("PATH_INFO", "").split("/", 3)
        scoped = {**environ, "SCRIPT_NAME": f"/t/{tenant}", "PATH_INFO": "/" + rest}
        return self.apps[tenant](scoped, start_response)

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()


def _servers_child(count: int, employees: int, control: Any) -> None:
    companies, tenants = PersonioCompanies(count, employees), ScimTenants(count)
    control.send((companies.port, [server.server_address[1] for server in tenants._servers]))
    while control.recv() == "usage":
        control.send(_cpu_seconds())
    companies.stop()
    tenants.stop()


class Servers:
    """The Personio companies and SCIM tenants of ``count`` integrations, served by a process of their own
    (so neither they nor KMock starve the other of the interpreter lock)."""

    def __init__(self, count: int, employees: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        self.process = context.Process(target=_servers_child, args=(count, employees, child), name="servers")
        self.process.start()
        self._personio_port, self._scim_ports = self._control.recv()

    def personio_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self._personio_port}/c/{n}"

    def scim_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self._scim_ports[n // TENANTS_PER_SCIM_SERVER]}/t/{n}/v2"

    def users(self, n: int) -> int:
        headers = {"Authorization": f"Bearer {ScimTenants.token(n)}"}
        return int(httpx.get(f"{self.scim_url(n)}/Users", headers=headers).json()["totalResults"])

    def cpu(self) -> float:
        self._control.send("usage")
        return self._control.recv()

    def stop(self) -> None:
        self._control.send("stop")
        self.process.join(timeout=30)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Call:
    """What the bench remembers of a request to the API."""

    operator: bool  # made with the operator's token
    watch: bool  # a list or watch
    what: str
    at: float  # time.perf_counter()


class BenchEmulator(RealisticEmulator):
    """The tests' emulator, fit for thousands of objects and requests: a read or write finds its object by
    its key (KMock looks through every object, Events included, on each request), and KMock's own log of
    requests is kept short (it looks through all of it on each request); ``calls`` remembers them instead."""

    async def _handle(self, request: Any) -> Any:
        calls = self.__dict__.setdefault("calls", [])
        resource = request.resource.plural if request.resource is not None else None
        calls.append(
            Call(
                operator=request.headers.get("Authorization") == f"Bearer {TOKEN}",
                watch=request.action in (kmock.action.WATCH, kmock.action.LIST),
                what=f"{request.method} {resource}/{request.name or ''}/{request.subresource or ''}",
                at=time.perf_counter(),
            )
        )
        if len(self._requests) > 256:
            del self._requests[:-64]
        return await super()._handle(request)

    def _stored(self, request: Any, name: str | None = None) -> Any:
        key = (request.resource, request.namespace, name or request.name)
        return self._objects._objects.get(key)  # kmock 0.8's dict of objects by key

    async def _serve_fetch(self, request: Any) -> Any:
        found = self._stored(request)
        if found is None or found.deleted:
            raise kmock.KubernetesObjectNotFoundError()
        return found.raw

    async def _serve_update(self, request: Any) -> Any:
        return self._stored(request).last.raw

    async def _serve_create(self, request: Any) -> Any:
        return self._stored(request, (request.data.get("metadata") or {}).get("name")).raw


class Cluster:
    """KMock with the integrations' objects; requests counted by who made them."""

    def __init__(self, emulator: kmock.KubernetesEmulator) -> None:
        self.emulator = emulator
        self.http = httpx.AsyncClient(base_url=str(emulator.url).rstrip("/"), timeout=30)

    def _url(self, name: str = "") -> str:
        base = f"/apis/{GROUP}/{VERSION}/namespaces/{NAMESPACE}/{PLURAL}"
        return f"{base}/{name}" if name else base

    async def create(self, n: int, spec: dict[str, Any]) -> None:
        for name, data in (
            (f"personio-{n}", {"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET}),
            (f"scim-{n}", {"token": ScimTenants.token(n)}),
        ):
            body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NAMESPACE}}
            encoded = {key: _b64(value) for key, value in data.items()}
            (
                await self.http.post(f"/api/v1/namespaces/{NAMESPACE}/secrets", json={**body, "data": encoded})
            ).raise_for_status()
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": KIND,
            "metadata": {"name": f"acme-{n}", "namespace": NAMESPACE},
            "spec": spec,
        }
        (await self.http.post(self._url(), json=body)).raise_for_status()

    async def patch_spec(self, n: int, spec: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/merge-patch+json"}
        (await self.http.patch(self._url(f"acme-{n}"), json={"spec": spec}, headers=headers)).raise_for_status()

    async def annotate(self, n: int, key: str, value: str) -> None:
        headers = {"Content-Type": "application/merge-patch+json"}
        patch = {"metadata": {"annotations": {key: value}}}
        (await self.http.patch(self._url(f"acme-{n}"), json=patch, headers=headers)).raise_for_status()

    def statuses(self) -> list[dict[str, Any]]:
        return [
            obj.raw.get("status") or {}
            for (resource, _, _), obj in list(self.emulator.objects.items())
            if resource.plural == PLURAL and not obj.deleted
        ]

    def calls(self) -> list[Call]:
        return self.emulator.__dict__.setdefault("calls", [])

    async def aclose(self) -> None:
        await self.http.aclose()


def _b64(value: str) -> str:
    import base64

    return base64.b64encode(value.encode()).decode()


def spec_for(n: int, servers: Servers, schedule: str) -> dict[str, Any]:
    return {
        "schedule": schedule,
        "personio": {"credentialsSecretRef": {"name": f"personio-{n}"}, "baseUrl": servers.personio_url(n)},
        "target": {"scim": {"url": servers.scim_url(n), "credentialsSecretRef": {"name": f"scim-{n}"}}},
        "teams": {"department": True, "supervisor": True},
    }


# -- the operator, in a child process --------------------------------------------------------------------


def _operator_child(server: str, concurrency: int, profile: str | None, control: Any) -> None:
    import logging

    import kopf

    from personio_operator.controller.handlers import build_settings, run_operator
    from personio_operator.controller.reconciler import Reconciler
    from personio_operator.controller.settings import OperatorSettings
    from personio_operator.destinations import DestinationPolicy

    logging.basicConfig(level=logging.WARNING)
    local = "http://127.0.0.1:*"
    settings = OperatorSettings(
        max_concurrent_runs=concurrency,
        metrics_port=None,
        destinations=DestinationPolicy(personio_urls=(local,), scim_urls=(local,)),
    )
    stop, ready = threading.Event(), threading.Event()

    def answer() -> None:
        while True:
            command = control.recv()
            if command == "stop":
                stop.set()
                return
            usage = resource.getrusage(resource.RUSAGE_SELF)
            control.send((usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, ready.is_set()))

    threading.Thread(target=answer, daemon=True).start()
    login = lambda **_: kopf.ConnectionInfo(server=server, scheme="Bearer", token=TOKEN)  # noqa: E731
    operator = run_operator(
        Reconciler(settings),
        clusterwide=True,
        login=login,
        stop_flag=stop,
        ready_flag=ready,
        settings=build_settings(),
    )
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    asyncio.run(operator)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    control.send((usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, True))


class Operator:
    def __init__(self, server: str, concurrency: int, profile: str | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        self.process = context.Process(
            target=_operator_child, args=(server, concurrency, profile, child), name="operator"
        )
        self.process.start()
        while not self.usage()[2]:
            time.sleep(0.05)

    def usage(self) -> tuple[float, float, bool]:
        """(CPU seconds, peak RSS in MB, started)."""
        self._control.send("usage")
        return self._control.recv()

    def stop(self) -> tuple[float, float]:
        self._control.send("stop")
        cpu, rss, _ = self._control.recv()
        self.process.join(timeout=60)
        return cpu, rss


# -- phases -----------------------------------------------------------------------------------------------


async def wait_until(check: Callable[[], bool], *, within: float, what: str, every: float = 0.02) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > within:
            raise RuntimeError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(every)
    return time.perf_counter() - started


def runs_done(cluster: Cluster, runs: int, count: int) -> Callable[[], bool]:
    def check() -> bool:
        done = [s for s in cluster.statuses() if len(s.get("history") or []) >= runs and not s.get("currentRun")]
        return len(done) >= count

    return check


def failed_runs(cluster: Cluster) -> int:
    return sum(1 for s in cluster.statuses() for entry in s.get("history") or [] if entry["result"] != "Succeeded")


def objects(cluster: Cluster, entry_index: int, field: str) -> int:
    """Sum over integrations of one count of history entry ``entry_index`` (0: newest)."""
    total = 0
    for status in cluster.statuses():
        entry = (status.get("history") or [])[entry_index]
        for kind in ("users", "teams"):
            counts = entry.get(kind) or {}
            if field == "written":
                total += sum(v for k, v in counts.items() if k != "unchanged")
            else:
                total += counts.get("unchanged", 0)
    return total


def operator_calls(calls: list[Call]) -> tuple[int, int]:
    """(requests other than list/watch, list and watch requests) the operator made."""
    mine = [call for call in calls if call.operator]
    watches = sum(1 for call in mine if call.watch)
    return len(mine) - watches, watches


def next_minute_after(moment: datetime, seconds: float) -> datetime:
    later = moment + timedelta(seconds=seconds)
    return later.replace(second=0, microsecond=0) + timedelta(minutes=1)


@dataclass
class Single:
    activation: float
    noop: float


async def measure_single(concurrency: int, employees: int) -> Single:
    servers = Servers(1, employees)
    try:
        async with BenchEmulator() as emulator, kmock.Server(emulator):
            declare_resources(emulator)
            cluster = Cluster(emulator)
            operator = Operator(str(emulator.url).rstrip("/"), concurrency)
            try:
                started = time.perf_counter()
                await cluster.create(0, spec_for(0, servers, "0 4 * * *"))
                await wait_until(runs_done(cluster, 1, 1), within=120, what="the single activation run")
                activation = time.perf_counter() - started
                started = time.perf_counter()
                await cluster.annotate(0, f"{GROUP}/run-requested-at", "now by bench")
                await wait_until(runs_done(cluster, 2, 1), within=120, what="the single no-op run")
                noop = time.perf_counter() - started
            finally:
                operator.stop()
                await cluster.aclose()
            if failed_runs(cluster):
                raise RuntimeError(f"the single runs failed: {cluster.statuses()[0].get('history')}")
    finally:
        servers.stop()
    return Single(activation, noop)


async def measure(count: int, concurrency: int, employees: int, idle_seconds: float, profile: str | None) -> dict:
    single = await measure_single(concurrency, employees)
    print(f"  single run: activation {single.activation:.2f} s, no-op {single.noop:.2f} s", flush=True)
    servers = Servers(count, employees)
    result: dict[str, Any] = {"n": count, "single": single}
    poll = 0.25  # seconds between looks at the objects (each look reads every status)
    try:
        async with BenchEmulator() as emulator, kmock.Server(emulator):
            declare_resources(emulator)
            cluster = Cluster(emulator)
            for n in range(count):
                await cluster.create(n, spec_for(n, servers, "0 4 * * *"))
            before = len(cluster.calls())
            operator = Operator(str(emulator.url).rstrip("/"), concurrency, profile)  # returns once kopf is ready
            started = time.perf_counter()
            try:
                cpu_start, _, _ = operator.usage()
                world_start = (servers.cpu(), _cpu_seconds())
                await wait_until(runs_done(cluster, 1, count), within=3600, what="every activation run", every=poll)
                result["activation_wall"] = time.perf_counter() - started
                cpu_done, _, _ = operator.usage()
                result["activation_cpu"] = cpu_done - cpu_start
                result["activation_servers_cpu"] = servers.cpu() - world_start[0]
                result["activation_kmock_cpu"] = _cpu_seconds() - world_start[1]
                result["written"] = objects(cluster, 0, "written")
                result["activation_requests"] = operator_calls(cluster.calls()[before:])[0]
                print(f"  activation: {result['activation_wall']:.1f} s", flush=True)

                await asyncio.sleep(2)  # the last Events and status writes of the last runs
                idle_from, cpu_idle = len(cluster.calls()), operator.usage()[0]
                idle_started = time.perf_counter()
                await asyncio.sleep(idle_seconds)
                idle_elapsed = time.perf_counter() - idle_started
                result["idle_cpu_per_hour"] = (operator.usage()[0] - cpu_idle) * 3600 / idle_elapsed
                calls, watches = operator_calls(cluster.calls()[idle_from:])
                result["idle_calls_per_minute"] = calls * 60 / idle_elapsed
                result["idle_watches_per_minute"] = watches * 60 / idle_elapsed
                print(f"  idle: {result['idle_cpu_per_hour']:.2f} CPU-s/h", flush=True)

                if profile is None:
                    slot = next_minute_after(datetime.now(UTC), 30 + count * 0.05)
                    for n in range(count):
                        await cluster.patch_spec(n, {"schedule": f"{slot.minute} {slot.hour} * * *"})
                    await asyncio.sleep(max(0.0, (slot - datetime.now(UTC)).total_seconds()))
                    cpu_slot = operator.usage()[0]
                    world_start = (servers.cpu(), _cpu_seconds())
                    started = time.perf_counter()
                    await wait_until(runs_done(cluster, 2, count), within=3600, what="every scheduled run", every=poll)
                    result["scheduled_wall"] = time.perf_counter() - started
                    result["scheduled_cpu"] = operator.usage()[0] - cpu_slot
                    result["scheduled_servers_cpu"] = servers.cpu() - world_start[0]
                    result["scheduled_kmock_cpu"] = _cpu_seconds() - world_start[1]
                    result["unchanged"] = objects(cluster, 0, "unchanged")
                    result["scheduled_written"] = objects(cluster, 0, "written")
                    print(f"  scheduled: {result['scheduled_wall']:.1f} s", flush=True)
            finally:
                _, result["rss_mb"] = operator.stop()
                await cluster.aclose()
            result["failed"] = failed_runs(cluster)
            result["sample_users"] = servers.users(count - 1)
    finally:
        servers.stop()
    return result


# -- report -----------------------------------------------------------------------------------------------


def report(result: dict, concurrency: int) -> None:
    n, single = result["n"], result["single"]
    batches = math.ceil(n / concurrency)
    ideal = batches * single.activation
    print(f"\n{n} integrations, concurrency {concurrency}:")
    ratio = result["activation_wall"] / ideal
    print(
        f"  activation: all {n} ran in {result['activation_wall']:.1f} s; ideal ceil({n}/{concurrency}) x "
        f"{single.activation:.2f} s = {ideal:.1f} s -> {ratio:.2f}x (target <= {RATIO_TARGET}x)"
    )
    print(
        f"    CPU {result['activation_cpu']:.1f} s: {result['activation_cpu'] / n:.3f} s per run, "
        f"{result['activation_cpu'] / max(result['written'], 1) * 1000:.2f} ms per written object "
        f"({result['written']} written; {result['activation_requests'] / n:.1f} API requests per run)"
    )
    print(_machine(result, "activation"))
    if "scheduled_wall" in result:
        ideal = batches * single.noop
        print(
            f"  scheduled (all due at one minute, nothing to change): {result['scheduled_wall']:.1f} s; ideal "
            f"{batches} x {single.noop:.2f} s = {ideal:.1f} s -> {result['scheduled_wall'] / ideal:.2f}x"
        )
        print(
            f"    CPU {result['scheduled_cpu']:.1f} s: {result['scheduled_cpu'] / n:.3f} s per run, "
            f"{result['scheduled_cpu'] / max(result['unchanged'], 1) * 1000:.3f} ms per unchanged object "
            f"({result['unchanged']} unchanged, {result['scheduled_written']} written)"
        )
        print(_machine(result, "scheduled"))
    print(
        f"  idle: {result['idle_cpu_per_hour']:.2f} CPU-s per hour (target < {IDLE_CPU_TARGET}), "
        f"{result['idle_calls_per_minute']:.1f} API requests per minute besides the watch, "
        f"{result['idle_watches_per_minute']:.2f} watch (re)connections per minute"
    )
    print(f"  peak RSS of the operator: {result['rss_mb']:.0f} MB (target < {RSS_TARGET_MB} MB)")
    print(f"  failed runs: {result['failed']}; users in the last tenant: {result['sample_users']}")


def _machine(result: dict, phase: str) -> str:
    wall = result[f"{phase}_wall"]
    parts = {
        "operator": result[f"{phase}_cpu"],
        "Personio+SCIM servers": result[f"{phase}_servers_cpu"],
        "KMock and this script": result[f"{phase}_kmock_cpu"],
    }
    shares = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in parts.items())
    return f"    CPU over the {wall:.0f} s ({wall * CORES:.0f} core-seconds on {CORES} cores): {shares}"


def print_profile(path: str, top: int = 25) -> None:
    stats = pstats.Stats(path)
    by_area: dict[str, float] = defaultdict(float)
    total = 0.0
    rows = []
    for (filename, line, function), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        total += tottime
        area = _area(filename)
        by_area[area] += tottime
        rows.append((tottime, area, f"{Path(filename).name}:{line} {function}"))
    print(f"\nprofile of the operator, activation and idle ({total:.1f} s, waiting included), by area:")
    for area, seconds in sorted(by_area.items(), key=lambda item: -item[1]):
        print(f"  {area:28s} {seconds:7.2f} s  {seconds / total * 100:5.1f} %")
    print(f"top {top} functions (own time):")
    for tottime, area, where in sorted(rows, reverse=True)[:top]:
        print(f"  {tottime:7.2f} s  {area:24s} {where}")


def _area(filename: str) -> str:
    for marker, area in (
        ("personio_operator/controller", "controller"),
        ("personio_operator/sync", "sync"),
        ("personio_operator/scim", "scim"),
        ("personio_operator/personio", "personio client"),
        ("personio_operator/", "operator (other)"),
        ("/kopf/", "kopf"),
        ("/httpx/", "httpx"),
        ("/httpcore/", "httpcore"),
        ("/aiohttp/", "aiohttp (kopf's client)"),
        ("/pydantic", "pydantic"),
        ("/scim2_models/", "scim2-models"),
        ("asyncio", "asyncio"),
        ("json", "json"),
        ("ssl", "ssl"),
    ):
        if marker in filename:
            return area
    return "other" if filename != "~" else "builtins"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--integrations", type=int, action="append", help="N (repeatable; default 300)")
    parser.add_argument("--concurrency", type=int, default=2, help="max_concurrent_runs (default 2)")
    parser.add_argument("--employees", type=int, default=50, help="people per company (default 50)")
    parser.add_argument("--idle-seconds", type=float, default=90.0, help="length of the idle phase (default 90)")
    parser.add_argument("--profile", help="cProfile the operator over the activation phase into this file")
    args = parser.parse_args()
    for count in args.integrations or [300]:
        print(f"{count} integrations ...", flush=True)
        result = asyncio.run(measure(count, args.concurrency, args.employees, args.idle_seconds, args.profile))
        report(result, args.concurrency)
        if args.profile:
            print_profile(args.profile)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
