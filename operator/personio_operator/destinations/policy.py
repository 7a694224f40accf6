"""Where the operator may send an integration's credentials: the admin's allow-lists and their rules.

A URL is allowed when a pattern of its side (Personio or the SCIM app) covers its scheme, host and
port. A pattern that names the host exactly is consent to that host, whatever its address (how a
sandbox on 127.0.0.1 or an in-cluster proxy is allowed). A host covered only by a wildcard must be
a public name that resolves to public addresses, unless the addresses are in an allowed private
network: loopback, link-local (cloud metadata), private, unspecified, multicast and reserved
addresses, ``localhost``, single-label names and cluster-internal names (``*.svc``,
``*.cluster.local``, ...) are refused. ``user:password@`` in a URL is refused whatever the lists say.

The rules are checked twice: before a run sends anything (``check_url``, plus the addresses its
name resolves to), and on every TCP connect (``check_connection``, see :mod:`.guard`), so a name
that resolves differently later (DNS rebinding) cannot reach a refused address.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import httpx
from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, ValidationError
from pydantic_core import ErrorDetails

from personio_operator.destinations.addresses import IPAddress, internal_name_kind, ip_literal, non_public_kind
from personio_operator.destinations.patterns import DEFAULT_PORTS, HostMatch, UrlPattern, host_in_url, normalize_host
from personio_operator.errors import ConfigurationError

DEFAULT_PERSONIO_URLS = ("https://api.personio.de",)
DEFAULT_SCIM_URLS = ("https://*",)
NETWORKS_ENV = "PERSONIO_OPERATOR_ALLOWED_PRIVATE_NETWORKS"
NETWORKS_VALUE = "destinations.privateNetworks"
CLI_FLAG = "--allow-url"
_HOST_SHOWN = 100


class Side(StrEnum):
    """The two places a run sends credentials to."""

    PERSONIO = "personio"
    SCIM = "scim"

    @property
    def spec_field(self) -> str:
        return "spec.personio.baseUrl" if self is Side.PERSONIO else "spec.target.scim.url"

    @property
    def env_var(self) -> str:
        return f"PERSONIO_OPERATOR_ALLOWED_{self.name}_URLS"

    @property
    def chart_value(self) -> str:
        return "destinations.personioUrls" if self is Side.PERSONIO else "destinations.scimUrls"


class DestinationRefused(ConfigurationError):
    """A destination the admin did not allow; raised before anything is sent to it."""


@dataclass(frozen=True)
class Destination:
    """A URL that passed the pre-flight check."""

    host: str
    port: int
    resolve_and_check: bool  # covered by a wildcard only: its name's addresses must be checked too


class DestinationPolicy(BaseModel):
    """The operator's allow-lists (env ``PERSONIO_OPERATOR_ALLOWED_*``, chart values ``destinations.*``)."""

    model_config = ConfigDict(frozen=True)

    personio_urls: tuple[UrlPattern, ...] = Field(
        default=tuple(UrlPattern.parse(text) for text in DEFAULT_PERSONIO_URLS),
        description="Where Personio credentials may go; default Personio's own API host.",
    )
    scim_urls: tuple[UrlPattern, ...] = Field(
        default=tuple(UrlPattern.parse(text) for text in DEFAULT_SCIM_URLS),
        description="Where SCIM tokens may go; default any public host over https.",
    )
    private_networks: tuple[IPvAnyNetwork, ...] = Field(
        default=(), description="Non-public networks a wildcard-matched host may resolve to."
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DestinationPolicy:
        """The three comma-separated variables; unset or empty means the default. ``ValueError`` names the variable."""
        variables = {"personio_urls": Side.PERSONIO.env_var, "scim_urls": Side.SCIM.env_var}
        variables["private_networks"] = NETWORKS_ENV
        values = {}
        for field, variable in variables.items():
            items = [item.strip() for item in environ.get(variable, "").split(",") if item.strip()]
            if items:
                values[field] = items
        try:
            return cls.model_validate(values)
        except ValidationError as err:
            problems = "; ".join(_describe(error, variables) for error in err.errors(include_url=False))
            raise ValueError(f"invalid operator settings: {problems}") from None

    @classmethod
    def only(cls, personio_url: str, scim_url: str) -> DestinationPolicy:
        """Exactly these two origins (for the demo and tests that run local servers)."""
        return cls(personio_urls=(UrlPattern.origin_of(personio_url),), scim_urls=(UrlPattern.origin_of(scim_url),))

    def allowing(self, patterns: Iterable[str]) -> DestinationPolicy:
        """This policy plus ``patterns`` on both sides (the CLI's ``--allow-url``)."""
        extra = tuple(UrlPattern.parse(text) for text in patterns)
        update = {"personio_urls": self.personio_urls + extra, "scim_urls": self.scim_urls + extra}
        return self.model_copy(update=update)

    def patterns(self, side: Side) -> tuple[UrlPattern, ...]:
        return self.personio_urls if side is Side.PERSONIO else self.scim_urls

    # --- the rules -------------------------------------------------------------------------------

    def check_url(self, side: Side, url: str) -> Destination:
        """The pre-flight check of a configured URL; raises ``DestinationRefused`` saying what to change."""
        try:
            parsed = httpx.URL(url)
            host = normalize_host(parsed.raw_host.decode("ascii"))
        except (httpx.InvalidURL, ValueError, UnicodeError):
            raise _refused(side, None, "is not a valid URL", f"Set {side.spec_field} to an https:// URL.") from None
        if parsed.userinfo:
            raise _refused(
                side, host, "comes with user:password@ in the URL", "Remove it: credentials belong in the Secret."
            )
        scheme = parsed.scheme
        if scheme not in DEFAULT_PORTS or not host:
            raise _refused(side, host or None, "is not an http(s) URL", f"Set {side.spec_field} to an https:// URL.")
        port = parsed.port or DEFAULT_PORTS[scheme]
        suggestion = _exact_pattern(scheme, host, port)
        covering = [pattern for pattern in self.patterns(side) if pattern.scheme == scheme]
        match = max((pattern.match_host(host, port) for pattern in covering), default=HostMatch.NONE)
        if match is HostMatch.NONE:
            reason = (
                "uses plain http, which only a pattern starting with http:// allows"
                if scheme == "http"
                else "is not on the list of allowed destinations"
            )
            raise _refused(side, host, reason, _allow_hint(side, suggestion), port=port)
        if match is HostMatch.EXACT:
            return Destination(host, port, resolve_and_check=False)
        literal = ip_literal(host)
        if literal is not None:
            self._check_addresses(side, host, port, [literal], suggestion)
            return Destination(host, port, resolve_and_check=False)
        self._check_name(side, host, port, covering, suggestion)
        return Destination(host, port, resolve_and_check=True)

    def check_addresses(self, side: Side, destination: Destination, addresses: Sequence[IPAddress]) -> None:
        """The pre-flight check of the addresses a wildcard-matched name resolves to."""
        pattern = next(p for p in self.patterns(side) if p.match_host(destination.host, destination.port))
        suggestion = _exact_pattern(pattern.scheme, destination.host, destination.port)
        self._check_addresses(side, destination.host, destination.port, addresses, suggestion)

    def check_connection(self, side: Side, host: str, port: int, addresses: Sequence[IPAddress]) -> None:
        """The check on every TCP connect: ``host`` as the HTTP client asked, ``addresses`` as just resolved."""
        host = normalize_host(host)
        covering = [pattern for pattern in self.patterns(side) if pattern.match_host(host, port)]
        scheme = covering[0].scheme if covering else ("https" if port == DEFAULT_PORTS["https"] else "http")
        suggestion = _exact_pattern(scheme, host, port)
        if not covering:
            reason = "is not on the list of allowed destinations"
            raise _refused(side, host, reason, _allow_hint(side, suggestion), port=port)
        if any(pattern.match_host(host, port) is HostMatch.EXACT for pattern in covering):
            return
        if ip_literal(host) is None:
            self._check_name(side, host, port, covering, suggestion)
        self._check_addresses(side, host, port, addresses, suggestion)

    def _check_name(self, side: Side, host: str, port: int, covering: list[UrlPattern], suggestion: str) -> None:
        """Internal names pass only a wildcard that spells their suffix out (``*.tools.svc``), never ``*``."""
        kind = internal_name_kind(host)
        named = [p for p in covering if not p.is_any_host and p.match_host(host, port)]
        if kind is not None and not named:
            raise _refused(side, host, f"is {kind}", _allow_hint(side, suggestion), port=port)

    def _check_addresses(
        self, side: Side, host: str, port: int, addresses: Sequence[IPAddress], suggestion: str
    ) -> None:
        for address in addresses:
            if any(address in network for network in self.private_networks):
                continue
            kind = non_public_kind(address)
            if kind is not None:
                reason = f"is {kind}" if ip_literal(host) == address else f"resolves to {kind}"
                hint = (
                    f"{_allow_hint(side, suggestion).removesuffix('.')}, or add the network to {NETWORKS_ENV} "
                    f"(Helm value {NETWORKS_VALUE})."
                )
                raise _refused(side, host, reason, hint, port=port)


def _describe(error: ErrorDetails, variables: Mapping[str, str]) -> str:
    """Our own messages quote what they need (never a password); pydantic's get the item they are about."""
    variable = variables[str(error["loc"][0])]
    if error["type"] == "value_error":
        return f"{variable}: {error['msg'].removeprefix('Value error, ')}"
    return f"{variable}: {error['input']!r}: {error['msg']}"


def _exact_pattern(scheme: str, host: str, port: int) -> str:
    return str(UrlPattern(scheme=scheme, host=host, port=port))


def _allow_hint(side: Side, suggestion: str) -> str:
    return (
        f"The operator's admin can allow it by adding {suggestion!r} to {side.env_var} (Helm value "
        f"{side.chart_value}; for plan/sync: {CLI_FLAG} {suggestion})."
    )


def _refused(side: Side, host: str | None, reason: str, fix: str, *, port: int | None = None) -> DestinationRefused:
    if host is None:
        subject = "it"
    else:
        shown = host_in_url(host if len(host) <= _HOST_SHOWN else f"{host[:_HOST_SHOWN]}...")
        subject = f"host {shown}" if port is None or port in DEFAULT_PORTS.values() else f"host {shown}:{port}"
    return DestinationRefused(
        f"{side.spec_field} is not an allowed destination: {subject} {reason}. Nothing was sent to it. {fix}"
    )
