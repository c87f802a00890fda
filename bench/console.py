"""Benchmark: how fast the reviewer console feels, in Debian's Chromium (headless, Playwright).

On each backend (SQLite file; a scratch PostgreSQL database) one `arbiter serve` (embedded
bus, the built console at /console) and an analyst signed in by an init script that puts
the token in sessionStorage before the page loads (as after a sign-in):

- open to first item: a new browser context (empty cache) goes to
  /console/#/review/<workflow>; the time from navigation start (performance.timeOrigin)
  to the moment the item region holds an item (its external id is in the DOM): the
  HTML, the JS, the sign-in check (`me`), the queue, `claimNext`, rendered. Also, from
  /console/, the time until the workflow list shows.
- key to next item: with the queue open, `a` approves the open item; the time from the
  keydown event (its timeStamp) to the moment the item region holds the next item:
  approve, then claimNext, then rendering.
- keystrokes per verdict (SQLite run only; they do not depend on the database): each
  verdict performed on the keyboard alone, counted by the page's own trusted keydown
  events until the decision is stored (the Undo button shows).
- bundle size: every JS file of console/dist, gzipped (bench/console_bundle.py).

Times are medians over --runs runs (and p95, min, max), taken inside the page with
performance.now() (a MutationObserver on the document), so Playwright's own round trips
are not in them. Nothing here is a test; the figures go to bench/results/console.json and
the "Reviewer console" section of BENCHMARKS.md (written by hand from them).

    .venv/bin/python bench/console.py [--runs 20] [--backends sqlite,postgresql] [--no-write]

Needs Chromium (ARBITER_CHROMIUM, default /usr/bin/chromium), Playwright and a built
console (make install); PostgreSQL at BENCH_POSTGRES_URL for the postgresql backend.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    create_admin,
    drop_database,
    free_port,
    machine_info,
    postgres_url,
    recreate_database,
    running_server,
    save_result,
    server_env,
    summary,
)
from bench.console_bundle import DIST, files_of, summarise  # noqa: E402
from tests.console.conftest import CHROMIUM, CHROMIUM_ARGS, KEY_COUNTER, TOKEN_KEY  # noqa: E402
from tests.console.world import (  # noqa: E402
    Api,
    create_items,
    create_reason_suggestions,
    create_user,
    create_workflow,
)

VIEWPORT: Any = {"width": 1280, "height": 800}
WAIT_MS = 15_000

# Records, in the page, when the item region first holds an item other than the one
# shown at the last keydown, and when the workflow list first shows.
PROBE = """
(() => {
  const marks = (window.__bench = {keydowns: [], items: [], workflows: null});
  const region = () =>
    document.querySelector('section[aria-label="Item"], [role=region][aria-label="Item"]');
  const shown = () => {
    const m = (region()?.textContent || "").match(/bench-\\d+/);
    return m ? m[0] : null;
  };
  let last = null;
  window.addEventListener("keydown", (e) => {
    if (e.isTrusted) marks.keydowns.push({key: e.key, at: e.timeStamp, item: shown()});
  }, true);
  new MutationObserver(() => {
    const now = performance.now();
    const item = shown();
    if (item && item !== last) { last = item; marks.items.push({item, at: now}); }
    if (marks.workflows === null) {
      const h = [...document.querySelectorAll("h1, h2")]
        .find((e) => e.textContent.trim() === "Workflows");
      if (h && document.querySelector("main a, main button")) marks.workflows = now;
    }
  }).observe(document, {subtree: true, childList: true, characterData: true});
})();
"""


@contextlib.contextmanager
def database(backend: str, directory: Path) -> Iterator[str]:
    """A fresh database for `backend`: a SQLite file, or a scratch PostgreSQL database
    (made and dropped on a loop of its own, before Playwright starts, or after)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'console-bench.db'}"
        return
    name = "arbiter_bench_console"
    asyncio.run(recreate_database(name))
    try:
        yield postgres_url(name)
    finally:
        asyncio.run(drop_database(name))


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    with httpx.Client(trust_env=False, timeout=5) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"arbiter serve exited ({process.returncode})")
            with contextlib.suppress(httpx.HTTPError):
                if http.get(f"{url}/readyz").status_code == 200:
                    return
            time.sleep(0.05)
    raise RuntimeError("arbiter serve did not become ready")


def bench_items(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "externalId": f"bench-{n}",
            "subject": f"Application {n}",
            "payload": {"amount": 1000 + n, "industry": "retail", "owner": {"age": 30 + n % 40}},
            "proposedAction": "approve_loan",
            "confidence": 0.8,
            "explanation": [{"feature": "amount", "contribution": 0.1, "value": 1000 + n}],
        }
        for n in range(start, start + count)
    ]


def new_page(browser: Any, token: str) -> Any:
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(WAIT_MS)
    context.add_init_script(f"sessionStorage.setItem({TOKEN_KEY!r}, {token!r});")
    context.add_init_script(KEY_COUNTER)
    context.add_init_script(PROBE)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.extend([m.text] if m.type == "error" else []))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.bench_errors = errors
    return page


def marks(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("window.__bench"))


OPERATION = re.compile(r"\s*(?:query|mutation)\s+(\w+)")

# Where the opening's time goes: the page's own timings, up to the item shown.
PHASES = """(shown) => {
  const nav = performance.getEntriesByType("navigation")[0];
  const graphql = performance.getEntriesByType("resource")
    .filter((r) => r.name.endsWith("/graphql") && r.responseEnd <= shown);
  const scripts = performance.getEntriesByType("resource")
    .filter((r) => r.initiatorType === "script" || r.name.endsWith(".js"));
  return {
    "HTML answered": nav.responseEnd,
    "scripts loaded": Math.max(0, ...scripts.map((r) => r.responseEnd)),
    "DOMContentLoaded": nav.domContentLoadedEventEnd,
    "GraphQL requests": graphql.length,
    "GraphQL time, summed": graphql.reduce((sum, r) => sum + (r.responseEnd - r.startTime), 0),
  };
}"""


def open_to_first_item(
    browser: Any, url: str, token: str, workflow: str, runs: int
) -> tuple[list[float], list[dict[str, float]]]:
    times, phases = [], []
    for _ in range(runs):
        page = new_page(browser, token)
        operations: list[Any] = []
        page.on("requestfinished", lambda r, seen=operations: seen.append(r))
        page.goto(f"{url}/console/#/review/{workflow}")
        page.wait_for_function("() => window.__bench.items.length > 0", timeout=WAIT_MS)
        shown = marks(page)["items"][0]["at"]
        times.append(shown)
        phase = page.evaluate(PHASES, shown)
        origin = page.evaluate("() => performance.timeOrigin")
        for request in operations:
            body = request.post_data_json if request.method == "POST" else None
            if not (request.url.endswith("/graphql") and body):
                continue
            timing = request.timing
            start = timing["startTime"] - origin
            end = start + timing["responseEnd"]
            if end <= shown:
                named = OPERATION.match(body.get("query") or "")
                operation = named.group(1) if named else "anonymous"
                phase[f"{operation} sent"] = start
                phase[f"{operation} answered"] = end
        phases.append(phase)
        _no_errors(page)
        page.context.close()
    return times, phases


def open_to_workflows(browser: Any, url: str, token: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        page = new_page(browser, token)
        page.goto(f"{url}/console/")
        page.wait_for_function("() => window.__bench.workflows !== null", timeout=WAIT_MS)
        times.append(marks(page)["workflows"])
        _no_errors(page)
        page.context.close()
    return times


def key_to_next_item(browser: Any, url: str, token: str, workflow: str, runs: int) -> list[float]:
    page = new_page(browser, token)
    page.goto(f"{url}/console/#/review/{workflow}")
    page.wait_for_function("() => window.__bench.items.length > 0", timeout=WAIT_MS)
    page.wait_for_timeout(300)  # let the first item settle (claim, subscription)
    times = []
    for _ in range(runs):
        seen = len(marks(page)["items"])
        page.keyboard.press("a")
        page.wait_for_function(
            "(seen) => window.__bench.items.length > seen", arg=seen, timeout=WAIT_MS
        )
        recorded = marks(page)
        keydown = recorded["keydowns"][-1]
        shown = recorded["items"][seen]
        assert keydown["key"] == "a" and shown["item"] != keydown["item"], (keydown, shown)
        times.append(shown["at"] - keydown["at"])
        page.wait_for_timeout(100)  # a reviewer's pause; lets the undo bar and events settle
    _no_errors(page)
    page.context.close()
    return times


def _no_errors(page: Any) -> None:
    if page.bench_errors:
        raise RuntimeError(f"the console reported errors: {page.bench_errors}")


VERDICTS: list[tuple[str, list[str], str]] = [
    # name, keys (a list of key names; "text:..." types text), what it does
    ("approve", ["a"], "a"),
    ("reject, no reason", ["r", "Enter"], "r, Enter"),
    ("reject with a typed reason", ["r", "text:too high", "Enter"], "r, reason, Enter"),
    ("flag with a note", ["f", "text:call owner", "Enter"], "f, note, Enter"),
    (
        "override, suggested reason",
        ["o", "2", "1", "Enter"],
        "o, action digit, reason digit, Enter",
    ),
    (
        "override, typed reason",
        ["o", "2", "text:founded last year", "Enter"],
        "o, action digit, reason, Enter",
    ),
]


def keystrokes_per_verdict(
    browser: Any, url: str, token: str, workflow: str
) -> list[dict[str, Any]]:
    page = new_page(browser, token)
    page.goto(f"{url}/console/#/review/{workflow}")
    page.wait_for_function("() => window.__bench.items.length > 0", timeout=WAIT_MS)
    rows = []
    undo = page.get_by_role("button", name="Undo", exact=True)
    for name, keys, how in VERDICTS:
        page.wait_for_timeout(300)
        before = len(marks(page)["keydowns"])
        for key in keys:
            if key.startswith("text:"):
                page.keyboard.type(key[5:])
            else:
                page.keyboard.press(key)
        undo.wait_for()
        rows.append(
            {"verdict": name, "keystrokes": len(marks(page)["keydowns"]) - before, "keys": how}
        )
        page.keyboard.press("Escape")
        page.wait_for_timeout(200)
    _no_errors(page)
    page.context.close()
    return rows


def bundle() -> dict[str, Any]:
    """The console's JS files and gzipped JS and CSS, as bench/console_bundle.py counts them."""
    summary = summarise(files_of(DIST / "assets", DIST))
    return {name: summary[name] for name in ("js_files", "js_gzip_bytes", "css_gzip_bytes")}


def run_backend(backend: str, runs: int, keystrokes: bool) -> dict[str, Any]:
    """Every timing on one backend (and the keystrokes when asked), in a Chromium of its own."""
    from playwright.sync_api import sync_playwright

    # The database is made and dropped outside Playwright, which marks its loop as running.
    with (
        tempfile.TemporaryDirectory() as tmp,
        database(backend, Path(tmp)) as database_url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return measure(browser, backend, database_url, Path(tmp), runs, keystrokes)
        finally:
            browser.close()


def measure(
    browser: Any, backend: str, database_url: str, tmp: Path, runs: int, keystrokes: bool
) -> dict[str, Any]:
    # A copy of the build: another build replacing console/dist mid-run would 404 the JS.
    dist = shutil.copytree(DIST, tmp / "dist")
    env = server_env(database_url, ARBITER_CONSOLE_DIR=str(dist))
    admin = create_admin(env)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_server(env, port, tmp / "serve.log") as process:
        wait_ready(url, process)
        api = Api(url, admin)
        reviewer = create_user(api, "bench-reviewer", "ANALYST")
        # Each opening claims an item, each `a` decides one: a queue each, with room to spare.
        opening = create_workflow(api, "Bench open")
        create_items(api, opening, bench_items(runs + 5))
        deciding = create_workflow(api, "Bench next")
        create_items(api, deciding, bench_items(runs + 5))
        open_to_workflows(browser, url, reviewer, 2)  # warm the server (first queries, caches)
        opened, phases = open_to_first_item(browser, url, reviewer, opening, runs)
        samples = {
            "open_to_workflows_ms": open_to_workflows(browser, url, reviewer, runs),
            "open_to_first_item_ms": opened,
            "key_to_next_item_ms": key_to_next_item(browser, url, reviewer, deciding, runs),
        }
        result: dict[str, Any] = {"backend": backend}
        result |= {name: summary(values) for name, values in samples.items()}
        medians = {
            name: statistics.median(p[name] for p in phases if name in p)
            for name in {k for p in phases for k in p}
        }
        result["open_to_first_item_phases_median_ms"] = dict(
            sorted(medians.items(), key=lambda kv: (kv[0] != "GraphQL requests", kv[1]))
        )
        result["samples_ms"] = {name: [round(v, 1) for v in vs] for name, vs in samples.items()}
        if keystrokes:
            verdicts = create_workflow(api, "Bench verdicts")
            create_reason_suggestions(api, verdicts)
            create_items(api, verdicts, bench_items(len(VERDICTS) + 2))
            result["keystrokes"] = keystrokes_per_verdict(browser, url, reviewer, verdicts)
        return result


def _ms(value: float) -> str:
    return f"{value:,.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not (DIST / "index.html").is_file():
        print("no console build: run make install first", file=sys.stderr)
        return 1
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results = [run_backend(b, args.runs, keystrokes=n == 0) for n, b in enumerate(backends)]

    size = bundle()
    print(f"{'backend':<11} {'figure':<22} {'median ms':>10} {'p95':>7} {'min':>7} {'max':>7}")
    for r in results:
        for key, label in (
            ("open_to_workflows_ms", "open to workflow list"),
            ("open_to_first_item_ms", "open to first item"),
            ("key_to_next_item_ms", "key to next item"),
        ):
            s = r[key]
            print(
                f"{r['backend']:<11} {label:<22} {_ms(s['median']):>10} {_ms(s['p95']):>7} "
                f"{_ms(s['min']):>7} {_ms(s['max']):>7}"
            )
    for r in results:
        print(f"{r['backend']:<11} opening /console to first item, medians (ms from start):")
        for name, value in r["open_to_first_item_phases_median_ms"].items():
            print(f"{'':<11}   {name:<34} {value:>8,.0f}")
    for row in results[0].get("keystrokes", []):
        print(f"keystrokes  {row['verdict']:<28} {row['keystrokes']:>3}  ({row['keys']})")
    kb = size["js_gzip_bytes"] / 1000
    print(f"bundle      {kb:,.1f} kB of JS gzipped ({size['js_files']} files)")

    if not args.no_write:
        document = {
            "runs": args.runs,
            "browser": "Debian Chromium, headless, " + CHROMIUM,
            "machine": machine_info(),
            "results": results,
            "bundle": size,
        }
        print(f"wrote {save_result('console', document).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
