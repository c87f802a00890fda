"""Request hygiene for /graphql before Strawberry sees it: JSON only, bounded, valid UTF-8."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


async def _reply(send: Send, status: int, message: str, code: str) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class GraphQLRequestGuard:
    """POSTs to `path` must be JSON, at most `max_body_bytes`, and valid UTF-8.

    The body is read here (it is bounded) and replayed to the app, so a refusal
    never reaches the GraphQL layer and never becomes a 500.
    """

    def __init__(self, app: ASGIApp, path: str, max_body_bytes: int) -> None:
        self.app = app
        self.path = path
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "GET":
            await self.app(scope, receive, send)
            return
        if method != "POST":
            await _reply(send, 405, "use POST with a JSON body", "METHOD_NOT_ALLOWED")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            await _reply(
                send,
                415,
                "send the request as Content-Type: application/json",
                "UNSUPPORTED_MEDIA_TYPE",
            )
            return
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await _reply(send, 413, f"the body exceeds {self.max_body_bytes} bytes", "TOO_LARGE")
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _reply(
                    send, 413, f"the body exceeds {self.max_body_bytes} bytes", "TOO_LARGE"
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            await _reply(send, 400, "the body is not valid UTF-8", "BAD_REQUEST")
            return
        if text.lstrip()[:1] not in ("{", "["):
            await _reply(
                send,
                400,
                'the body must be a JSON object: {"query": ..., "variables": ...}',
                "BAD_REQUEST",
            )
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
