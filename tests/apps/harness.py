"""A Personio sandbox, one SCIM app (any of the suite's servers) and the real runner between them.

Everything the suites assert is read from the servers: the app over HTTP (``AppReader``), the
requests each server answered from its own records, Personio's data from the sandbox company.
Every run report, and every access token the sandbox issued, goes to the leak check.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import SecretStr

from personio_operator.api.run import Trigger
from personio_operator.destinations import DestinationPolicy
from personio_operator.sync.report import RunReport
from personio_operator.sync.runner import run_integration
from personio_operator.sync.secrets import RunSecrets
from personio_testkit.personio_sandbox import SandboxServer
from personio_testkit.scim_app import RecordedRequest
from tests.apps.expected import Expected, Rules
from tests.apps.reading import AppReader, Dialect, Holdings
from tests.plugins.leaks import PERSONIO_CLIENT_ID, PERSONIO_CLIENT_SECRET, SCIM_TOKEN, LeakCheck
from tests.sync.factories import make_spec
from tests.sync.harness import merge

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RUN_BUDGET_SECONDS = 10.0  # bounds a run that goes wrong; a good run of these companies takes about a second


class ScimApp(Protocol):
    """What both test servers offer (scim2-server's ScimTestServer, the django-scim2-server fixture)."""

    url: str
    token: str

    @property
    def requests(self) -> list[RecordedRequest]: ...

    def reset_requests(self) -> None: ...

    def add_user(self, user_name: str, **attributes: Any) -> dict[str, Any]: ...

    def add_group(self, display_name: str, **attributes: Any) -> dict[str, Any]: ...


@dataclass
class RunTrace:
    """One run: its report and the requests each server answered during it."""

    report: RunReport
    app_requests: list[RecordedRequest]
    personio_calls: dict[str, int]

    @property
    def app_writes(self) -> list[RecordedRequest]:
        return [request for request in self.app_requests if request.method in WRITE_METHODS]

    def app_by_kind(self) -> Counter[str]:
        return Counter(f"{r.method} /{r.path.strip('/').split('/', 1)[0]}" for r in self.app_requests)

    @property
    def personio_total(self) -> int:
        return sum(self.personio_calls.values())


class AppHarness:
    def __init__(
        self, sandbox: SandboxServer, app: ScimApp, leaks: LeakCheck, rules: Rules | None = None, **spec: Any
    ) -> None:
        self.sandbox = sandbox
        self.app = app
        self.company = sandbox.company
        self.leaks = leaks
        self.rules = rules or Rules()
        self.extra_spec = spec
        self.reader = AppReader(app.url, app.token)
        self._dialect: Dialect | None = None

    def close(self) -> None:
        self.reader.close()

    # --- runs ------------------------------------------------------------------------------------------

    def spec(self, **overrides: Any):
        connection = {
            "personio": {"credentialsSecretRef": {"name": "hr-api-access"}, "baseUrl": self.sandbox.base_url},
            "target": {"scim": {"url": self.app.url, "credentialsSecretRef": {"name": "app-access"}}},
        }
        return make_spec(**merge(merge(merge(connection, self.rules.spec()), self.extra_spec), overrides))

    async def run(self, *, budget_seconds: float = RUN_BUDGET_SECONDS, **overrides: Any) -> RunTrace:
        secrets = RunSecrets(
            personio_client_id=PERSONIO_CLIENT_ID,
            personio_client_secret=SecretStr(PERSONIO_CLIENT_SECRET),
            scim_token=SecretStr(SCIM_TOKEN),
        )
        self.app.reset_requests()
        self.sandbox.stats.reset()
        report = await run_integration(
            self.spec(**overrides),
            secrets,
            trigger=Trigger.MANUAL,
            started_by="suite@acme.example",
            budget_seconds=budget_seconds,
            destinations=DestinationPolicy.only(self.sandbox.base_url, self.app.url),
        )
        trace = RunTrace(report, list(self.app.requests), self.sandbox.stats.calls)
        self.leaks.feed_report(report)
        self.note_issued_tokens()
        return trace

    async def sync(self, **overrides: Any) -> RunTrace:
        """A run that must succeed."""
        trace = await self.run(**overrides)
        assert trace.report.succeeded, f"the run failed: {trace.report.error}\n{failed_objects(trace.report)}"
        return trace

    def note_issued_tokens(self) -> None:
        """Access tokens the sandbox issued are Authorization header values: none may come out."""
        for token in list(self.sandbox.credentials._tokens):  # the sandbox's own store of what it issued
            self.leaks.add_authorization(f"Bearer {token}", "Personio access token")

    # --- the app ---------------------------------------------------------------------------------------

    @property
    def dialect(self) -> Dialect:
        if self._dialect is None:
            self._dialect = self.reader.dialect()
        return self._dialect

    def holdings(self) -> Holdings:
        return Holdings.read(self.reader)

    def expected(self) -> Expected:
        return Expected.of(self.company, self.rules)

    def problems(self) -> list[str]:
        """Differences between the app and what a complete run leaves, plus any duplicate."""
        held = self.holdings()
        return held.duplicates() + self.expected().check(held, self.dialect, self.rules)


def failed_objects(report: RunReport, limit: int = 3) -> str:
    failed = [obj for obj in report.objects if not obj.ok]
    lines = [f"  {obj.kind} {obj.action} {obj.name}: {(obj.error or '')[:200]}" for obj in failed[:limit]]
    if len(failed) > limit:
        lines.append(f"  ... and {len(failed) - limit} more")
    return "\n".join(lines)
