"""scim2-models' verdict, asked once per payload shape instead of once per object.

scim2-models checks every SCIM payload we send and reads every one the app sends; it costs ~0.2 ms a
user, more than the request itself. The payload layer therefore has a fast path for the plain forms
(plain dicts, built or read by hand) and keeps scim2-models as the reference: the first payload of
each *shape* goes through both, and the fast path is used for that shape only once both gave the same
result. Everything value-dependent that scim2-models checks (e-mail syntax, timestamps) the fast path
checks per object; anything it does not handle it leaves to scim2-models (returns None).

A shape is a payload's structure: its keys at every level, the kinds of its values (text, empty text,
number, null, true, false), lists as the set of their items' shapes plus how many are marked primary,
and the values of the attributes whose value scim2-models checks against the schema (``schemas``,
a PATCH operation's ``op`` and ``path``, a ``type``). Two payloads of one shape differ only in texts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

_T = TypeVar("_T")
SIGNIFICANT_KEYS = frozenset({"schemas", "op", "path", "type", "resourceType"})
MAX_SHAPES = 512  # verdicts kept per payload kind; an app that varies more is read the slow way


def shape_of(value: Any, key: str = "") -> Hashable:
    """The shape of a JSON-like value (see the module docstring)."""
    if isinstance(value, dict):
        return ("{", tuple(sorted((str(k), shape_of(item, k)) for k, item in value.items())))
    if isinstance(value, list):
        primaries = sum(1 for item in value if isinstance(item, dict) and item.get("primary") is True)
        return ("[", frozenset(shape_of(item, key) for item in value), min(primaries, 2))
    if isinstance(value, str):
        return ("=", value) if key in SIGNIFICANT_KEYS else ("s" if value else "")
    if value is None or isinstance(value, bool):
        return value
    return type(value).__name__


class ShapeChecked(Generic[_T]):
    """The fast path's result where scim2-models agreed with it on the first payload of the same shape."""

    def __init__(self, kind: str, limit: int = MAX_SHAPES) -> None:
        self.kind = kind
        self._limit = limit
        self._agrees: dict[Hashable, bool] = {}

    def result(self, shape: Hashable, fast: _T | None, reference: Callable[[], _T]) -> _T:
        """``fast`` when trusted for ``shape``; otherwise what ``reference`` (scim2-models) gives or raises."""
        if fast is None:
            return reference()
        verdict = self._agrees.get(shape)
        if verdict:
            return fast
        if verdict is False:
            return reference()
        try:
            expected = reference()
        except Exception:
            self._remember(shape, agrees=False)
            raise
        self._remember(shape, agrees=expected == fast)
        return expected

    def _remember(self, shape: Hashable, *, agrees: bool) -> None:
        if len(self._agrees) >= self._limit:
            return
        self._agrees[shape] = agrees
        if not agrees:
            log.info("%s: scim2-models and the fast path differ on a payload shape; scim2-models takes it", self.kind)

    def forget(self) -> None:
        self._agrees.clear()
