"""Opaque v2 cursors (``cur_…``): where the next page starts, which filters apply, which page it is."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from personio_testkit.personio_sandbox.responses import bad_parameters

PREFIX = "cur_"


@dataclass(frozen=True)
class Cursor:
    after: str | None  # last item of the previous page (person id or list offset as text)
    page_index: int
    limit: int
    filters: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> str:
        payload = {"a": self.after, "p": self.page_index, "l": self.limit, "f": self.filters}
        raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        if not text.startswith(PREFIX):
            raise bad_parameters(cursor="The cursor is invalid: use the next link of the previous page.")
        encoded = text[len(PREFIX) :]
        try:
            payload = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
            cursor = cls(
                after=payload["a"], page_index=int(payload["p"]), limit=int(payload["l"]), filters=dict(payload["f"])
            )
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise bad_parameters(cursor="The cursor is invalid: use the next link of the previous page.") from None
        if cursor.page_index < 0 or cursor.limit < 1:
            raise bad_parameters(cursor="The cursor is invalid: use the next link of the previous page.")
        return cursor
