"""Serve a bare baseline app exactly as `arbiter serve` serves Arbiter.

    python -m bench.baselines.serve <read|decide|ingest|queue_page> --port P --database-url URL

Same uvicorn settings (one process, log_config=None, proxy_headers=False, the
same logging set-up, access log included), the same engines (store.database.connect).
"""

from __future__ import annotations

import argparse
import importlib

import uvicorn

from api.log_setup import configure_logging


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("module", choices=["read", "decide", "ingest", "queue_page"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--token-cache-seconds", type=float, default=0.0)
    args = parser.parse_args()
    module = importlib.import_module(f"bench.baselines.{args.module}")
    configure_logging(False)
    uvicorn.run(
        module.create_app(args.database_url, args.token_cache_seconds),
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
