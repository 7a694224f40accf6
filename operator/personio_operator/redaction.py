"""One redaction step for every text that leaves the process (status, Events, e-mails, logs,
``--json`` reports, exception text).

- ``remember_secret(value)``: mask this value from now on, also in its base64, URL-encoded and
  JSON-escaped forms (an app may echo ``Basic base64(id:secret)`` or a percent-encoded token).
- ``redact(text)``: the text without remembered values and without anything shaped like a
  credential: ``Authorization`` header values, ``Bearer``/``Basic`` credentials, ``user:pw@`` in
  URLs, ``token=`` / ``"client_secret": "..."`` style fields, JWTs.
- ``redact_data(value)`` / ``redact_model(model)``: the same for every string in a JSON-like
  structure (status patches, ``--json`` output) or a pydantic model (the run report).
- ``clean_untrusted(text, limit)``: text an app or Personio sent, made safe to put into a message:
  terminal escapes, control, bidi and invisible format characters removed, redacted, capped.
- ``install_log_redaction()``: every log record of the process is redacted when it is created,
  whatever handler later formats it (message, traceback and stack).

Remembered values live for the process in a bounded LRU (``MAX_REMEMBERED``). ``redact`` runs on
every log record, so it is built to be cheap: finding remembered values costs about the same however
many there are (an index of slices, see ``_Secrets``), and each credential shape is looked for only
in texts that contain one of its words.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import string
import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

from pydantic import BaseModel

from personio_operator.safe_text import ELLIPSIS, clean_text

_AnyModel = TypeVar("_AnyModel", bound=BaseModel)

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words
MAX_REMEMBERED = 2048  # values (each with its few encoded forms); the oldest are forgotten first
DETAIL_LIMIT = 200  # characters of app- or Personio-provided text that may go into a message
_GRAM = 4  # characters per looked-up slice of a text
_LONG = 16  # forms this long are found through the index of slices
_STEP = _LONG - _GRAM + 1  # every _STEP-th slice of a text is looked up
_MIN_ENCODED_LENGTH = 6  # shorter base64 fragments are too likely to occur by chance
_SCAN_CHUNK = 65_536  # slices looked up at a time: bounds the memory of scanning a huge text
_UNTRUSTED_INPUT_LIMIT = 65_536  # characters of untrusted text read at all


# --- remembered values ----------------------------------------------------------------------------


def _encoded_forms(value: str) -> set[str]:
    """The value as an app might echo it: raw, JSON-escaped, URL-encoded, and inside any base64 text."""
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    for encoded in (quote(value, safe=""), quote_plus(value, safe=""), quote(value)):
        forms |= {encoded, re.sub(r"%[0-9A-F]{2}", lambda match: match.group().lower(), encoded)}
    raw = value.encode()
    for offset in range(3):
        # Whatever precedes the value inside a base64 text (e.g. "client-id:" in a Basic credential)
        # shifts it by 0, 1 or 2 bytes; these characters encode the value's bytes alone in each case.
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        start, stop = -(-8 * offset // 6), 8 * (offset + len(raw)) // 6
        core = encoded[start:stop]
        if len(core) >= _MIN_ENCODED_LENGTH:
            forms |= {core, core.replace("+", "-").replace("/", "_")}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class _Secrets:
    """The remembered values (LRU, at most ``capacity``) and an index over their forms.

    A form of ``_LONG`` characters or more covers at least one of every ``_STEP``-th slice of
    ``_GRAM`` characters of a text, at an offset below ``_STEP`` into the form: those slices of each
    long form are indexed, so a text is searched by looking up only every ``_STEP``-th slice, however
    many values are remembered. Shorter forms (rare: real credentials are long) are searched one by one.
    """

    def __init__(self, capacity: int = MAX_REMEMBERED) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._values: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._uses: Counter[str] = Counter()  # values sharing a form
        self._long: dict[str, list[tuple[int, str]]] = {}  # slice -> (offset, form)
        self._short: set[str] = set()

    def __len__(self) -> int:
        return len(self._values)

    def remember(self, value: str) -> None:
        with self._lock:
            if value in self._values:
                self._values.move_to_end(value)
                return
            forms = frozenset(_encoded_forms(value))
            self._values[value] = forms
            for form in forms:
                self._uses[form] += 1
                if self._uses[form] == 1:
                    self._index(form)
            while len(self._values) > self.capacity:
                _, forgotten = self._values.popitem(last=False)
                for form in forgotten:
                    self._uses[form] -= 1
                    if not self._uses[form]:
                        del self._uses[form]
                        self._unindex(form)

    def forget_all(self) -> None:
        with self._lock:
            self._values.clear()
            self._uses.clear()
            self._long.clear()
            self._short.clear()

    def _index(self, form: str) -> None:
        if len(form) < _LONG:
            self._short.add(form)
            return
        for offset in range(_STEP):
            self._long.setdefault(form[offset : offset + _GRAM], []).append((offset, form))

    def _unindex(self, form: str) -> None:
        if len(form) < _LONG:
            self._short.discard(form)
            return
        for offset in range(_STEP):
            gram = form[offset : offset + _GRAM]
            entries = [entry for entry in self._long.get(gram, ()) if entry != (offset, form)]
            if entries:
                self._long[gram] = entries
            else:
                self._long.pop(gram, None)

    def find(self, text: str) -> list[tuple[int, int]]:
        """Where remembered values occur in the text: (start, stop) of each occurrence."""
        with self._lock:
            return self._find_long(text) + self._find_short(text)

    def _find_long(self, text: str) -> list[tuple[int, int]]:
        last = len(text) - _GRAM + 1
        if last <= 0 or not self._long:
            return []
        stride = _STEP * _SCAN_CHUNK
        hits: set[str] = set()
        for chunk in range(0, last, stride):
            sampled = range(chunk, min(chunk + stride, last), _STEP)
            hits |= {text[i : i + _GRAM] for i in sampled} & self._long.keys()
        spans = []
        if hits:
            for position in range(0, last, _STEP):
                gram = text[position : position + _GRAM]
                if gram in hits:
                    for offset, form in self._long[gram]:
                        start = position - offset
                        if start >= 0 and text.startswith(form, start):
                            spans.append((start, start + len(form)))
        return spans

    def _find_short(self, text: str) -> list[tuple[int, int]]:
        spans = []
        for form in self._short:
            start = text.find(form)
            while start >= 0:
                spans.append((start, start + len(form)))
                start = text.find(form, start + 1)
        return spans


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with each span replaced by the mask (overlapping or adjacent spans share one)."""
    parts, copied = [], 0
    for start, stop in sorted(spans):
        if stop <= copied:
            continue
        if start > copied or not parts:
            parts += [text[copied:start], MASK]
        copied = stop
    parts.append(text[copied:])
    return "".join(parts)


_secrets = _Secrets()


def remember_secret(value: str | None) -> None:
    """Mask this value (and its encoded forms) in every text that is redacted from now on."""
    if not value:
        return
    for candidate in {value, value.strip()}:
        if len(candidate) >= MIN_SECRET_LENGTH:
            _secrets.remember(candidate)


def forget_secrets() -> None:
    """Forget every remembered value (for tests that need a clean slate)."""
    _secrets.forget_all()


def remembered_count() -> int:
    return len(_secrets)


# --- shapes of credentials ------------------------------------------------------------------------
# Matched on the lower-cased text (the patterns then start with literals that the regex engine
# searches for quickly); every named group that took part in a match is masked.

_TOKEN = r"a-z0-9\-._~+/"


@dataclass(frozen=True)
class _Shape:
    words: tuple[str, ...]  # the pattern can only match a text containing one of these
    pattern: re.Pattern[str]
    after_word_boundary: bool = False  # the match must not continue a word ("bearer", not "xbearer")

    def spans(self, lower: str) -> list[tuple[int, int]]:
        if not any(word in lower for word in self.words):
            return []
        found = []
        for match in self.pattern.finditer(lower):
            start = match.start()
            if self.after_word_boundary and start and (lower[start - 1].isalnum() or lower[start - 1] == "_"):
                continue
            found += [match.span(name) for name, value in match.groupdict().items() if value is not None]
        return found


_SHAPES = (
    # The value of an Authorization header, whatever its scheme: "Authorization: SSWS 00ab...",
    # {'Authorization': 'Token abc'}, authorization=abc
    _Shape(("authorization",), re.compile(r"""authorization["']?\s*[:=]\s*["']?(?P<value>[^"'\r\n,;}\]]+)""")),
    # "Bearer <credential>" / "Basic <credential>": at least 8 characters with a digit or punctuation,
    # or 20 letters; so "the bearer token" or "Basic authentication." stay readable.
    _Shape(
        ("bearer", "basic"),
        re.compile(
            rf"(?:bearer|basic)\s+(?P<value>(?=[{_TOKEN}]*?(?:[0-9\-_~+/=]|\.[{_TOKEN}]))[{_TOKEN}]{{8,}}=*"
            r"|[a-z]{20,}=*)"
        ),
        after_word_boundary=True,
    ),
    # user:password@ (or a token as the user) in a URL
    _Shape(("://",), re.compile(r"""://(?P<value>[^\s/?#@"'<>]+)@""")),
    _Shape(("eyj",), re.compile(r"(?P<value>eyj[a-z0-9_\-]{8,}\.eyj[a-z0-9_\-]{8,}\.[a-z0-9_\-]*)")),
)

# Fields named like a credential: token=..., access_token=..., client_secret=... (queries, forms,
# keyword arguments); "client_secret": "...", 'token': '...' (JSON, Python reprs; value quoted too);
# password: ..., x-api-key: ..., x-auth-token: ... (header- or YAML-like: only these names, so that
# prose such as "has no key 'token': add it" stays readable).
_KEY_WORDS = ("token", "secret", "password", "passwd", "pwd", "apikey", "api_key", "api-key")
_UNQUOTED_COLON_KEYS = ("password", "passwd", "client_secret", "client-secret", "clientsecret", "api_key", "api-key")
_UNQUOTED_COLON_SUFFIXES = ("_token", "-token")
_SEPARATOR = re.compile(r"[:=]")
_FIELD_VALUE = re.compile(
    r"""[ \t]*(?:"(?P<double>(?:[^"\\]|\\.)*)"|'(?P<single>(?:[^'\\]|\\.)*)'"""
    r"""|(?!(?:true|false|none|null)\b)(?P<plain>[^\s&"',;#<>{}\[\]]+))"""
)


_FIELD_WORDS = ("token", "secret", "passw", "pwd", "key")  # every one of _KEY_WORDS contains one


def _field_spans(lower: str) -> list[tuple[int, int]]:
    if not any(word in lower for word in _FIELD_WORDS):
        return []
    found = []
    for separator in _SEPARATOR.finditer(lower):
        key_end = separator.start()
        while key_end and lower[key_end - 1] in " \t":
            key_end -= 1
        quoted_key = key_end > 0 and lower[key_end - 1] in "\"'"
        if quoted_key:
            key_end -= 1
        if not lower.endswith(_KEY_WORDS, 0, key_end):
            continue
        value = _FIELD_VALUE.match(lower, separator.end())
        if value is None:
            continue
        colon = separator.group() == ":"
        if colon and quoted_key and value.group("plain") is not None:
            continue  # "token": 5 or {"token": {...}}: not a credential
        if colon and not quoted_key:
            key = lower[:key_end]
            if not (key.endswith(_UNQUOTED_COLON_KEYS) or key.endswith(_UNQUOTED_COLON_SUFFIXES)):
                continue
        found += [value.span(name) for name, part in value.groupdict().items() if part is not None]
    return found


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _lower_same_length(text: str) -> str:
    lower = text.lower()
    return lower if len(lower) == len(text) else text.translate(_ASCII_LOWER)


# Every shape and field name above needs one of these words: a text without any has no credential shape.
_SHAPE_WORDS = re.compile(
    "|".join(re.escape(word) for word in {*(w for shape in _SHAPES for w in shape.words), *_FIELD_WORDS})
)


def redact(text: str) -> str:
    """The text without remembered secret values and without anything shaped like a credential."""
    if not text:
        return text
    spans = _secrets.find(text)
    lower = _lower_same_length(text)
    if _SHAPE_WORDS.search(lower):
        for shape in _SHAPES:
            spans += shape.spans(lower)
        spans += _field_spans(lower)
    return _masked(text, spans) if spans else text


def redact_data(value: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, tuples, strings) with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {key: redact_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(item) for item in value]
    return value


def redact_model(model: _AnyModel) -> _AnyModel:
    """A copy of a pydantic model with every string in it redacted (fields left out of its dumps,
    such as a report's plan, are kept as they are)."""
    kept = {name: getattr(model, name) for name, info in type(model).model_fields.items() if info.exclude}
    dumped = model.model_dump(exclude=set(kept))
    data = redact_data(dumped)
    if data == dumped:  # nothing to mask (the usual case): no need to build the model again
        return model.model_copy()
    return type(model).model_validate({**data, **kept})


# --- text from outside ----------------------------------------------------------------------------


def clean_untrusted(text: object, limit: int = DETAIL_LIMIT) -> str:
    """App- or Personio-provided text fit for a message: one line, no escapes, control, bidi or
    invisible characters, redacted, at most ``limit`` characters (cut with "…")."""
    # Cleaned before it is redacted (an invisible character inside a secret must not hide it), cut after.
    flat = redact(clean_text(str(text)[:_UNTRUSTED_INPUT_LIMIT], None))
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)].rstrip(" ") + ELLIPSIS


# --- logs -----------------------------------------------------------------------------------------

_install_lock = threading.Lock()
_exception_formatter = logging.Formatter()


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message, formatted = record.getMessage(), True
    except Exception:  # arguments that do not fit the format: shown without them
        message, formatted = f"{record.msg} (log arguments not shown: they do not match the format)", False
    clean = redact(message)
    if clean != message or record.args or not formatted:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        trace = _exception_formatter.formatException(record.exc_info)
        record.exc_text = redact(trace)
        if record.exc_text != trace:
            record.exc_info = None  # a handler formatting the exception itself would print the secret
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_log_redaction() -> None:
    """Redact every log record of the process when it is created (idempotent)."""
    with _install_lock:
        previous = logging.getLogRecordFactory()
        if getattr(previous, "redacts", False):
            return

        def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _redact_record(record)
            return record

        redacting_factory.redacts = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(redacting_factory)
