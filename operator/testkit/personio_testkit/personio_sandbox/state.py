"""What handlers see: the sandbox's shared state and the current request."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from personio_testkit.personio_sandbox.attributes import Visibility
from personio_testkit.personio_sandbox.clock import SandboxClock
from personio_testkit.personio_sandbox.company import Company
from personio_testkit.personio_sandbox.config import SandboxConfig
from personio_testkit.personio_sandbox.faults import FaultInjector
from personio_testkit.personio_sandbox.ratelimit import RateLimiter
from personio_testkit.personio_sandbox.stats import SandboxStats
from personio_testkit.personio_sandbox.tokens import Credentials


@dataclass
class SandboxState:
    company: Company
    config: SandboxConfig
    clock: SandboxClock
    credentials: Credentials
    faults: FaultInjector
    stats: SandboxStats
    limiter: RateLimiter


@dataclass
class RequestContext:
    request: Request
    state: SandboxState
    path_params: dict[str, str]
    token: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def base_url(self) -> str:
        """The sandbox's own scheme and host, as the client reached it (links point back here)."""
        url = self.request.url
        return f"{url.scheme}://{url.netloc}"

    def visibility(self) -> Visibility:
        credentials = self.state.credentials
        return Visibility(credentials.whitelist, hide_termination=credentials.stale)
