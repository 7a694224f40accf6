"""Text from Personio or the app, made safe to send to the app (``clean_text``) or to show (``shown``).

Removed: C0/C1 control characters (terminal escape sequences as a whole), format characters
such as bidi overrides and isolates, zero-width spaces and soft hyphens, surrogates, private-use
and unassigned code points. Kept: every letter, mark, digit, symbol and emoji, and the zero-width
joiner and non-joiner (U+200D, U+200C) after a visible character, which emoji sequences and
Persian and Indic names need (a Malayalam chillu even ends a word with one). Whitespace of any kind
becomes one space; the result is NFC-normalised and trimmed.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TEXT_LENGTH = 256  # names, team names, title and department in the app
SHOWN_LENGTH = 80  # a person's name, an e-mail or an app value inside a warning or plan line
ELLIPSIS = "…"

ZWNJ, ZWJ = "\u200c", "\u200d"
_JOINERS = frozenset({ZWNJ, ZWJ})
# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and two-character escapes
_TERMINAL_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def clean_text(value: str | None, max_length: int | None = MAX_TEXT_LENGTH) -> str:
    """The text without invisible or control characters, cut to ``max_length`` characters (None: no cut)."""
    if not value:
        return ""
    if value.isascii() and value.isprintable():  # most names: nothing to remove, NFC changes nothing
        text = " ".join(value.split())
        return text if max_length is None or len(text) <= max_length else text[:max_length].strip(" ")
    return _clean_each_character(value, max_length)


def _clean_each_character(value: str, max_length: int | None) -> str:
    kept: list[str] = []
    for char in _TERMINAL_ESCAPE.sub("", value):
        if char.isspace():
            kept.append(" ")
        elif char in _JOINERS:
            if kept and kept[-1] != " ":  # a joiner joins nothing at the start or after a space
                kept.append(char)
        elif unicodedata.category(char)[0] != "C":
            kept.append(char)
    text = unicodedata.normalize("NFC", " ".join("".join(kept).split()))
    if max_length is not None and len(text) > max_length:
        text = text[:max_length]
    return text.strip(" ")


def shown(value: object, max_length: int = SHOWN_LENGTH) -> str:
    """A value as people read it in a warning, plan or report line: cleaned, and cut with '…' when long."""
    text = clean_text(value if isinstance(value, str) else str(value), None)
    if len(text) > max_length:
        return text[: max_length - 1].rstrip(" ") + ELLIPSIS
    return text
