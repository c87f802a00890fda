"""Benchmark: the reviewer console's size as a browser downloads it, gzipped.

Every JavaScript file of the console's build (console/dist/assets: the entry and every
lazy chunk) and every stylesheet, each gzipped at level 9 as a server or CDN would,
summed, and set against the issue's budget: at most 250 kB (250,000 bytes) of gzipped
JavaScript. GraphiQL's files (dist/graphiql) are shown apart: GraphiQL is not the
console, and only its own page at /graphql loads them.

    .venv/bin/python bench/console_bundle.py [--dist console/dist] [--no-write]

Build first (`make install`). Results: a table on stdout and
bench/results/console_bundle.json. Exit status 1 when the build is missing.
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: bench/ is not a package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, save_result

DIST = ROOT / "console" / "dist"
NAME = "console_bundle"
JS_BUDGET_GZIP_BYTES = 250_000
KINDS = {".js": "js", ".mjs": "js", ".css": "css"}


def measure(path: Path) -> dict[str, Any]:
    """One file: its size and its gzipped size in bytes."""
    data = path.read_bytes()
    return {"bytes": len(data), "gzip_bytes": len(gzip.compress(data, compresslevel=9, mtime=0))}


def files_of(folder: Path, base: Path) -> list[dict[str, Any]]:
    """Every .js and .css file under `folder`, measured, largest (gzipped) first."""
    found = [
        {"file": str(path.relative_to(base)), "kind": KINDS[path.suffix], **measure(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix in KINDS
    ]
    return sorted(found, key=lambda row: -row["gzip_bytes"])


def total(rows: list[dict[str, Any]], kind: str, key: str) -> int:
    return sum(row[key] for row in rows if row["kind"] == kind)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The console's totals from its measured files, set against the budget."""
    summary: dict[str, Any] = {
        "js_files": sum(1 for row in rows if row["kind"] == "js"),
        "js_bytes": total(rows, "js", "bytes"),
        "js_gzip_bytes": total(rows, "js", "gzip_bytes"),
        "css_bytes": total(rows, "css", "bytes"),
        "css_gzip_bytes": total(rows, "css", "gzip_bytes"),
        "js_budget_gzip_bytes": JS_BUDGET_GZIP_BYTES,
    }
    summary["within_budget"] = summary["js_gzip_bytes"] <= JS_BUDGET_GZIP_BYTES
    return summary


def _commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def _kb(size: int) -> str:
    return f"{size / 1000:,.1f} kB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dist", type=Path, default=DIST, help="the console's build output")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {NAME}.json")
    args = parser.parse_args()

    dist: Path = args.dist.resolve()
    if not (dist / "index.html").is_file():
        print(f"no console build at {dist}: run make install first", file=sys.stderr)
        return 1
    console = files_of(dist / "assets", dist)
    graphiql = files_of(dist / "graphiql", dist) if (dist / "graphiql").is_dir() else []

    summary = summarise(console)

    width = max((len(row["file"]) for row in console + graphiql), default=10)
    print(f"{'file':<{width}}  {'size':>12}  {'gzipped':>12}")
    for row in console:
        print(f"{row['file']:<{width}}  {_kb(row['bytes']):>12}  {_kb(row['gzip_bytes']):>12}")
    print(
        f"\nconsole JavaScript ({summary['js_files']} files): {_kb(summary['js_gzip_bytes'])} "
        f"gzipped ({_kb(summary['js_bytes'])} as built); budget {_kb(JS_BUDGET_GZIP_BYTES)}: "
        f"{'within' if summary['within_budget'] else 'OVER'}"
    )
    print(f"console CSS: {_kb(summary['css_gzip_bytes'])} gzipped ({_kb(summary['css_bytes'])})")
    if graphiql:
        js = total(graphiql, "js", "gzip_bytes")
        css = total(graphiql, "css", "gzip_bytes")
        print(f"GraphiQL's page, apart (/graphql only): {_kb(js)} JS, {_kb(css)} CSS gzipped")

    if not args.no_write:
        document = {
            "commit": _commit(),
            "gzip_level": 9,
            "summary": [summary],
            "files": console,
            "graphiql_files": graphiql,
        }
        print(f"wrote {save_result(NAME, document).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
