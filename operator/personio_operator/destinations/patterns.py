"""URL patterns of the destination allow-lists: ``scheme://host[:port]``.

- scheme: ``https``, or ``http`` (only a pattern with ``http`` allows plain http).
- host: a name or IP address matched exactly (``api.personio.de``, ``127.0.0.1``, ``[::1]``);
  ``*.example.com`` (any name below example.com, not example.com itself); or ``*`` (any host).
- port: a number; ``*`` for any port; none for the scheme's default port (443, 80).

Paths, queries, ``user:password@`` and other wildcards are refused: the host and port decide
where a credential goes, and a pattern that looked narrower than it is would mislead.
"""

from __future__ import annotations

import ipaddress
import re
from enum import IntEnum
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, model_serializer, model_validator

DEFAULT_PORTS = {"http": 80, "https": 443}
ANY_HOST = "*"
_WILDCARD_PREFIX = "*."
_HOST_NAME = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
_USERINFO = re.compile(r"^[^/]*://[^/?#]*@")
_SHAPE = re.compile(r"^(?P<scheme>[^:/]*)://(?P<host>\[[^\]]*\]|[^:/?#@\[\]]*)(?::(?P<port>[^/?#]*))?(?P<rest>.*)$")


class HostMatch(IntEnum):
    """How a pattern matches a host; a higher value is a stronger consent."""

    NONE = 0
    WILDCARD = 1
    EXACT = 2


def normalize_host(host: str) -> str:
    """The form hosts are compared in: IDNA, lower case, no trailing dot, IP addresses canonical.

    Raises ``ValueError`` for text that is no host name."""
    host = host.strip().lower().removesuffix(".")
    literal = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return str(ipaddress.ip_address(literal))
    except ValueError:
        pass
    try:
        name = httpx.URL(f"http://{host}/").raw_host.decode("ascii").lower().removesuffix(".")
    except (httpx.InvalidURL, UnicodeError):
        name = ""
    if not _HOST_NAME.match(name):
        raise ValueError(f"{host[:100]!r} is not a valid host name")
    return name


def host_in_url(host: str) -> str:
    """``host`` as written in a URL (IPv6 addresses in brackets)."""
    return f"[{host}]" if ":" in host else host


class UrlPattern(BaseModel):
    """One allowed destination. Built from its text; serialised back to it."""

    model_config = ConfigDict(frozen=True)

    scheme: str
    host: str  # normalised; "*", "*.suffix" or one host
    port: int | None  # None: any port

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return cls.fields_of(value) if isinstance(value, str) else value

    @model_serializer
    def _to_text(self) -> str:
        return str(self)

    @classmethod
    def parse(cls, text: str) -> UrlPattern:
        """``ValueError`` says what is wrong with ``text``."""
        return cls(**cls.fields_of(text))

    @classmethod
    def origin_of(cls, url: str) -> UrlPattern:
        """The exact pattern for ``url``'s scheme, host and port (its path is dropped)."""
        parsed = httpx.URL(url)
        port = parsed.port or DEFAULT_PORTS[parsed.scheme]
        return cls(scheme=parsed.scheme, host=normalize_host(parsed.raw_host.decode("ascii")), port=port)

    @staticmethod
    def fields_of(text: str) -> dict[str, Any]:
        """The pattern's parts; ``ValueError`` says what is wrong with the text."""
        if _USERINFO.match(text.strip()):
            raise ValueError(f"a pattern never contains user:password@ ({text.split('@')[-1]!r})")
        shape = _SHAPE.match(text.strip())
        if shape is None:
            raise ValueError(f"{text!r} is not a pattern of the form scheme://host[:port], e.g. https://*.example.com")
        scheme = shape["scheme"].lower()
        if scheme not in DEFAULT_PORTS:
            raise ValueError(f"{text!r}: the scheme must be https or http")
        if shape["rest"] not in ("", "/"):
            raise ValueError(
                f"{text!r}: a pattern names scheme://host[:port] only; drop {shape['rest']!r} (paths, queries and "
                "user:password@ are not part of a pattern)"
            )
        host = shape["host"].strip().lower()
        if not host:
            raise ValueError(f"{text!r} has no host")
        if "*" in host and host != ANY_HOST:
            suffix = host.removeprefix(_WILDCARD_PREFIX)
            if not host.startswith(_WILDCARD_PREFIX) or "*" in suffix or not suffix.strip("."):
                raise ValueError(f"{text!r}: a wildcard is the whole host (*) or its first label (*.example.com)")
            host = _WILDCARD_PREFIX + _pattern_host(text, suffix)
        elif host != ANY_HOST:
            host = _pattern_host(text, host)
        port_text = shape["port"]
        if port_text is None or port_text == "":
            port: int | None = DEFAULT_PORTS[scheme]
        elif port_text == "*":
            port = None
        elif port_text.isdigit() and 1 <= int(port_text) <= 65535:
            port = int(port_text)
        else:
            raise ValueError(f"{text!r}: the port must be a number from 1 to 65535 or *")
        return {"scheme": scheme, "host": host, "port": port}

    @property
    def is_exact(self) -> bool:
        return "*" not in self.host

    @property
    def is_any_host(self) -> bool:
        return self.host == ANY_HOST

    def match_host(self, host: str, port: int) -> HostMatch:
        """How this pattern covers ``host`` (normalised) on ``port``, whatever the scheme."""
        if self.port is not None and self.port != port:
            return HostMatch.NONE
        if self.is_any_host:
            return HostMatch.WILDCARD
        if self.is_exact:
            return HostMatch.EXACT if host == self.host else HostMatch.NONE
        suffix = self.host.removeprefix("*")  # ".example.com"
        return HostMatch.WILDCARD if host.endswith(suffix) and len(host) > len(suffix) else HostMatch.NONE

    def __str__(self) -> str:
        port = "" if self.port == DEFAULT_PORTS[self.scheme] else f":{'*' if self.port is None else self.port}"
        return f"{self.scheme}://{host_in_url(self.host)}{port}"


def _pattern_host(text: str, host: str) -> str:
    try:
        return normalize_host(host)
    except ValueError as error:
        raise ValueError(f"{text!r}: {error}") from None
