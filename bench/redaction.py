"""Bench: the cost of the redaction step, which runs on every log record the process creates.

    .venv/bin/python bench/redaction.py [--calls 20000]

Prints microseconds per ``redact`` call for typical log lines with 3 and with ``MAX_REMEMBERED``
remembered values (the cost should barely grow), per log record created with and without the
redacting record factory, and milliseconds for a 1 MB text (a large rendered plan).
"""

from __future__ import annotations

import argparse
import logging
import secrets
import time

from personio_operator.redaction import MAX_REMEMBERED, forget_secrets, install_log_redaction, redact, remember_secret

LINES = {
    "short": "GET /Users -> 200",
    "httpcore": (
        "receive_response_headers.complete return_value=(b'HTTP/1.1', 200, b'OK', [(b'Content-Type', "
        "b'application/scim+json'), (b'Content-Length', b'5123'), (b'Date', b'Mon, 30 Nov 2026 16:32:56 GMT')])"
    ),
    "error": (
        "create user 'jane.doe@acme.example' was refused by the app (HTTP 400, invalidValue): the attribute "
        'emails[type eq "work"].value must be unique; see https://app.example.com/docs/errors#400 token=none'
    ),
}


def per_call_us(text: str, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        redact(text)
    return (time.perf_counter() - start) / calls * 1e6


def per_record_us(calls: int) -> float:
    logger = logging.getLogger("bench.redaction")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    start = time.perf_counter()
    for index in range(calls):
        logger.debug("request %d: %s", index, LINES["httpcore"])
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    calls = parser.parse_args().calls
    logger = logging.getLogger("bench.redaction")
    logger.addHandler(logging.NullHandler())

    for count in (3, MAX_REMEMBERED):
        forget_secrets()
        for _ in range(count):
            remember_secret(secrets.token_urlsafe(32))
        timings = ", ".join(f"{name} {per_call_us(text, calls):.1f} us" for name, text in LINES.items())
        print(f"redact with {count} remembered values: {timings}")

    print(f"log record without redaction: {per_record_us(calls):.1f} us")
    install_log_redaction()
    print(f"log record with redaction:    {per_record_us(calls):.1f} us")

    big = ("Plan: create user person@bench.example (Given Family), department Sales\n" * 15_000)[:1_000_000]
    start = time.perf_counter()
    redact(big)
    print(f"redact a 1 MB text: {(time.perf_counter() - start) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
