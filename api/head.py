"""HEAD on every GET route (RFC 9110 §9.3.2): load-balancer and uptime probes send HEAD to
``/health`` or ``/widget``; FastAPI routes only GET, so they would get 405.

An ASGI middleware: a HEAD request is passed on as GET and the response is sent with the
same status and headers (``content-length`` included) but no body.
"""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Answer ``HEAD`` as the ``GET`` of the same URL, without the body."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # drop streamed chunks; the last (empty) one ends the response
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(dict(scope, method="GET"), receive, send_headers_only)
