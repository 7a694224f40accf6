"""Prometheus metrics of the operator, in a registry of its own."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from personio_operator.sync.report import RunReport


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter(
            "personio_operator_runs",
            "Finished runs by trigger and result.",
            ["trigger", "result"],
            registry=self.registry,
        )
        self.tests = Counter(
            "personio_operator_tests", "Finished tests (dry runs) by result.", ["result"], registry=self.registry
        )
        self.duration = Histogram(
            "personio_operator_run_duration_seconds",
            "Wall time of runs.",
            ["trigger"],
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600),
            registry=self.registry,
        )
        self.objects_changed = Counter(
            "personio_operator_objects_changed",
            "Users and teams changed by runs, by kind and action.",
            ["kind", "action"],
            registry=self.registry,
        )
        self.paused = Gauge(
            "personio_operator_paused_integrations", "Integrations paused after a failure.", registry=self.registry
        )
        self.running = Gauge("personio_operator_runs_in_flight", "Runs in flight.", registry=self.registry)
        self.waiting = Gauge(
            "personio_operator_runs_waiting",
            "Runs and tests waiting for a free slot (PERSONIO_OPERATOR_MAX_CONCURRENT_RUNS).",
            registry=self.registry,
        )
        self._paused: set[tuple[str, str]] = set()
        self._server = None

    def record_run(self, report: RunReport, trigger: str) -> None:
        self.runs.labels(trigger=trigger, result=report.result.value).inc()
        if report.completed_at is not None:
            seconds = max((report.completed_at - report.started_at).total_seconds(), 0.0)
            self.duration.labels(trigger=trigger).observe(seconds)
        for kind, counts in (("user", report.users), ("team", report.teams)):
            for action, value in counts.model_dump(exclude={"unchanged"}).items():
                if value:
                    self.objects_changed.labels(kind=kind, action=action).inc(value)

    def record_test(self, report: RunReport) -> None:
        self.tests.labels(result=report.result.value).inc()

    def set_paused(self, key: tuple[str, str], paused: bool) -> None:
        (self._paused.add if paused else self._paused.discard)(key)
        self.paused.set(len(self._paused))

    def forget(self, keys: Iterable[tuple[str, str]]) -> None:
        for key in keys:
            self._paused.discard(key)
        self.paused.set(len(self._paused))

    def serve(self, host: str, port: int) -> int:
        """Start the /metrics HTTP server (a daemon thread); returns the bound port."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        self._server = server
        return server.server_port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
