"""One HTTP exchange with hard limits, for answers from servers a tenant may choose.

httpx's timeouts apply to each network operation, so a server that sends one byte every few
seconds never trips them, and it reads an answer of any size into memory. Here the whole
exchange (connect, send, every byte of the answer) has a deadline, and the decoded answer a size
cap; both end as an ``httpx.TransportError`` the clients already treat as a failed request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

MAX_ANSWER_BYTES = 32 * 1024 * 1024  # a 1,000-item SCIM page or a Personio page is far below this


class AnswerTooLarge(httpx.TransportError):
    """The server's answer was larger than the cap (after decompression)."""


async def bounded_request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    deadline: float,
    max_bytes: int = MAX_ANSWER_BYTES,
    **options: Any,
) -> httpx.Response:
    """``client.request(method, url, **options)`` that ends within ``deadline`` seconds with at most
    ``max_bytes`` of decoded body, or raises ``httpx.ReadTimeout`` / ``AnswerTooLarge``."""
    request = client.build_request(method, url, **options)
    try:
        async with asyncio.timeout(deadline):
            response = await client.send(request, stream=True)
            try:
                body = await _read_capped(response, max_bytes)
            finally:
                await response.aclose()
    except TimeoutError:
        raise httpx.ReadTimeout(f"no complete answer within {deadline:g} s", request=request) from None
    # The body is decoded already: the copy must not claim an encoding or a length it no longer has.
    headers = [
        (k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-encoding", "content-length")
    ]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=request,
        extensions={"http_version": response.extensions.get("http_version", b"HTTP/1.1")},
    )


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise AnswerTooLarge(
                f"the answer is larger than {max_bytes // (1024 * 1024)} MiB", request=response.request
            )
        chunks.append(chunk)
    return b"".join(chunks)
