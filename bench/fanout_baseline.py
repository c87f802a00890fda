"""The baseline of bench/fanout.py: a bare Starlette WebSocket app on uvicorn that speaks
just enough graphql-transport-ws (ack, then one subscribe), and on POST /trigger stamps
`at` and sends one message of the arbiter's shape to every socket in one asyncio loop.

Run as its own process: `python bench/fanout_baseline.py PORT` (`baseline_server`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: bench/ is not a package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import HOST, stop_process
from bench.fanout_subscribers import SUB_ID


def baseline_app() -> Any:
    """A bare Starlette app: /ws (graphql-transport-ws, minimal) and POST /trigger."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    sockets: set[WebSocket] = set()
    tasks: set[asyncio.Task[None]] = set()
    counter = [0]

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="graphql-transport-ws")
        try:
            await websocket.receive_text()  # connection_init
            await websocket.send_text('{"type":"connection_ack"}')
            await websocket.receive_text()  # subscribe
            sockets.add(websocket)
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            sockets.discard(websocket)

    async def broadcast(text: str) -> None:
        for websocket in list(sockets):
            try:
                await websocket.send_text(text)
            except Exception:
                sockets.discard(websocket)

    async def trigger(request: Request) -> JSONResponse:
        body = await request.json()
        at = datetime.now(UTC).isoformat()
        counter[0] += 1
        event = {
            "id": f"evt_{counter[0]:032x}",
            "kind": "DECIDED",
            "at": at,
            "previousTier": None,
            "recommendation": {
                "id": body["rec"],
                "status": "APPROVED",
                "tier": "ANALYST_REVIEW",
                "version": 2,
                "confidence": 0.8,
                "proposedAction": "A",
            },
        }
        message = {"id": SUB_ID, "type": "next", "payload": {"data": {"queueEvents": event}}}
        task = asyncio.create_task(broadcast(json.dumps(message, separators=(",", ":"))))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return JSONResponse({"at": at})

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "sockets": len(sockets)})

    return Starlette(
        routes=[
            WebSocketRoute("/ws", endpoint),
            Route("/trigger", trigger, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )


def baseline_main(port: int) -> None:
    """Serve the baseline on HOST:port with uvicorn until the process is stopped."""
    import uvicorn

    uvicorn.run(baseline_app(), host=HOST, port=port, log_level="warning")


@contextlib.contextmanager
def baseline_server(port: int, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The baseline on HOST:port, its output in log_path; stopped on exit."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, __file__, str(port)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            stop_process(process)


if __name__ == "__main__":
    baseline_main(int(sys.argv[1]))
