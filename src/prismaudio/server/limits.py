"""Request size limits that hold for every body, and messages that never show server internals.

The size limit is a plain ASGI wrapper around the whole app (API and web page): it refuses a
declared Content-Length over the limit before reading anything, and counts the bytes of a
chunked body as they arrive, stopping at the limit. The form parser therefore never holds more
than the limit, and a body that goes over it is answered with 413 without being read further.
"""

from __future__ import annotations

import json
import re

from fastapi import HTTPException

MiB = 2**20
FORM_OVERHEAD = 64 * 1024  # multipart boundaries, headers and the small text fields
SMALL_BODY = 4 * MiB  # every POST that is not an upload: API forms without a file, the web page's calls


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a body passes its limit; an HTTPException so that FastAPI's
    handlers answer it (as 413) instead of reporting a server error."""

    def __init__(self, limit: int, upload: bool = True):
        what = "upload" if upload else "request body"
        # Connection: close, so the server stops taking the rest of the body, not only stops keeping it.
        super().__init__(status_code=413, detail=f"{what} is larger than the limit of {limit / MiB:g} MB",
                         headers={"Connection": "close"})


def is_upload_path(path: str) -> bool:
    """Routes that take a video: the API's two, and the web page's upload route."""
    return path in ("/v1/generate", "/v1/plan") or path.rstrip("/").endswith("/upload")


class BodyLimit:
    """ASGI middleware: uploads up to `upload_bytes` (+ form overhead), other bodies up to SMALL_BODY."""

    def __init__(self, app, upload_bytes: int):
        self.app = app
        self.upload_bytes = upload_bytes

    def limit_for(self, path: str) -> tuple[int, BodyTooLarge]:
        """The byte limit of a body sent to `path`, and the error that says it (in the limit users set)."""
        if is_upload_path(path):
            return self.upload_bytes + FORM_OVERHEAD, BodyTooLarge(self.upload_bytes)
        return SMALL_BODY, BodyTooLarge(SMALL_BODY, upload=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit, too_large = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            return await _send_413(send, too_large)
        received = 0
        response_started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large
            return message

        async def tracked_send(message):
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:  # raised where no handler answered it (e.g. inside the web page's app)
            if response_started:
                raise
            await _send_413(send, too_large)


def _content_length(scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_413(send, too_large: BodyTooLarge) -> None:
    body = json.dumps({"error": too_large.detail}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


# An absolute path of two or more parts (/srv/x, C:\x\y); API routes are put back by the caller.
_PATH = re.compile(r"(?<![\w.:/])(?:/|[A-Za-z]:\\)(?:[\w.+@~-]+[/\\])+[\w.+@~-]*")
MAX_MESSAGE_CHARS = 300


def public_message(message: str, known: dict[str, str] | None = None) -> str:
    """An error message fit for a client: known server paths replaced by their meaning, any
    other absolute path by '<path>', one line, at most MAX_MESSAGE_CHARS characters."""
    for path, meaning in sorted((known or {}).items(), key=lambda kv: -len(kv[0])):
        if path:
            message = message.replace(path, meaning)
    message = _PATH.sub(lambda m: m.group(0) if m.group(0).startswith("/v1/") else "<path>", message)
    message = " ".join(message.split())
    return message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 3] + "..."
