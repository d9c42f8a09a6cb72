"""Reading a request body, capped: a declared or streamed size over the limit is refused with 413 at once."""

from __future__ import annotations

from starlette.requests import Request

from reminder_pipeline.web.refusal import Refusal


def too_large(limit: int) -> Refusal:
    return Refusal(413, f"the request body is larger than {limit} bytes")


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, or :class:`Refusal` 413 as soon as it is known to be over ``limit`` (nothing more is read)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise Refusal(400, "the Content-Length header is not a number")
        if int(declared) > limit:
            raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def as_text(body: bytes) -> str:
    """The body as UTF-8 text (what every provider sends), or a 400."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "the request body is not UTF-8 text") from None
