"""Admin-controlled destinations: where the operator may send an integration's credentials.

``DestinationPolicy`` holds the allow-lists (operator settings), ``DestinationGuard`` applies them to
a run: a pre-flight check of both URLs, and HTTP clients that check every connection they make.
"""

from personio_operator.destinations.addresses import IPAddress, Resolver, resolve_host
from personio_operator.destinations.guard import DestinationGuard
from personio_operator.destinations.patterns import UrlPattern
from personio_operator.destinations.policy import CLI_FLAG, DestinationPolicy, DestinationRefused, Side

__all__ = [
    "CLI_FLAG",
    "DestinationGuard",
    "DestinationPolicy",
    "DestinationRefused",
    "IPAddress",
    "Resolver",
    "Side",
    "UrlPattern",
    "resolve_host",
]
