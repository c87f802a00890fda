"""The reviewer console in a real browser: Debian's Chromium driven by Playwright (sync API)
against `arbiter serve` run as a child process, as a person would use it.

- `console_server` (one for this package): `arbiter serve` on a fresh SQLite file with an
  admin, serving the built console (console/dist, or ARBITER_CONSOLE_DIR) at /console;
  `postgres_console_server` the same on a scratch PostgreSQL database (for concurrency);
  `restartable_server` one on a port of its own that a test kills and starts again.
- `admin_api`: GraphQL over HTTP as that admin, to seed workflows and read stored state
  (tests/console/world.py).
- `chromium`: Chromium (ARBITER_CHROMIUM, default /usr/bin/chromium), one for the package.
- `console`: opens pages, each in a browser context of its own; every page fails the test
  on any console error, uncaught page error or request to another origin, unless the test
  excuses that message by pattern, saying why (a 401 it provoked, a server it killed).
  `ConsolePage.look(name)` runs axe-core (no serious or critical violation) and writes
  docs/screenshots/<name>.png.

Without Playwright, Chromium or a built console the tests skip saying what is missing,
and fail instead under ARBITER_REQUIRE_SERVICES=1. Playwright's sync API marks its loop
as running while it is alive, so nothing in this package uses the asyncio fixtures, and
Chromium is closed when the package ends.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.clients_live.conftest import (
    ARBITER,
    ROOT,
    ArbiterServer,
    arbiter,
    arbiter_env,
    arbiter_serve,
    create_token,
    migrated_sqlite,
)
from tests.conftest import PG_ADMIN_URL, _pg_admin, _pg_url, _service_missing
from tests.console.world import Api
from tests.live.conftest import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Request, WebSocket

try:  # without Playwright, the `chromium` fixture skips (or fails) every test saying so
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

# The build under test: ARBITER_CONSOLE_DIR when set, else the repository's console/dist.
DIST = Path(os.environ.get("ARBITER_CONSOLE_DIR") or ROOT / "console" / "dist")
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("ARBITER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: Any = {"width": 1280, "height": 800}
TOKEN_KEY = "arbiter.token"  # console/src/api/session.ts
READY_TIMEOUT = 30.0
SERIOUS = ("serious", "critical")

# Counts the keys a person pressed (trusted keydown events), for "4 keystrokes" claims.
KEY_COUNTER = """
window.__arbiterKeys = [];
document.addEventListener("keydown", (e) => { if (e.isTrusted) window.__arbiterKeys.push(e.key); },
                          true);
"""


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, for this package's tests."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _service_missing("playwright is not installed (pip install pytest-playwright)")
    if not Path(CHROMIUM).exists():
        _service_missing(f"Chromium is not at {CHROMIUM} (apt-get install chromium)")
    if not (DIST / "index.html").exists():
        _service_missing(f"the console is not built ({DIST}): run `make install`")
    if not AXE.exists():
        _service_missing(f"axe-core is missing ({AXE}): run `npm ci` in console/")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="package")
def console_build(chromium: Browser, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The servers' settings: a copy of the build (ARBITER_CONSOLE_DIR), taken once, so that
    a `npm run build` replacing console/dist meanwhile cannot pull files from under a test."""
    copy = shutil.copytree(DIST, tmp_path_factory.mktemp("console") / "dist")
    return {"console_dir": str(copy)}


@dataclass
class ConsoleServer:
    """A running `arbiter serve` and its admin's token."""

    server: ArbiterServer
    admin: str
    log_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, token: str | None = None) -> Api:
        return Api(self.url, token or self.admin)


def check_console_is_served(url: str) -> None:
    with httpx.Client(trust_env=False, timeout=5) as http:
        response = http.get(f"{url}/console/")
    if response.status_code != 200 or "text/html" not in response.headers.get("content-type", ""):
        pytest.fail(
            "arbiter serve does not serve the console at /console/: "
            f"{response.status_code} {response.headers.get('content-type')} {response.text[:200]}",
            pytrace=False,
        )


@pytest.fixture(scope="package")
def console_server(
    console_build: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """`arbiter serve` on a fresh SQLite file, with an admin (ada)."""
    directory = tmp_path_factory.mktemp("console-serve")
    database_url = migrated_sqlite(directory)
    admin = create_token(database_url, "ada", "admin")
    with arbiter_serve(database_url, directory, **console_build) as server:
        check_console_is_served(server.url)
        yield ConsoleServer(server, admin, directory)


@pytest.fixture
def admin_api(console_server: ConsoleServer) -> Api:
    return console_server.api()


def _on_worker_thread(coroutine: Any) -> Any:
    # Playwright's sync API marks its own loop as running on this thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@contextlib.contextmanager
def scratch_postgres() -> Iterator[str]:
    """A scratch PostgreSQL database migrated by `arbiter migrate`; dropped afterwards."""
    name = f"arbiter_console_{uuid.uuid4().hex[:10]}"
    try:
        _on_worker_thread(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        _service_missing(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error}")
    url = _pg_url(name)
    try:
        result = arbiter(url, "migrate")
        assert result.returncode == 0, result.stderr
        yield url
    finally:
        _on_worker_thread(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="package")
def postgres_console_server(
    console_build: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """`arbiter serve` on a scratch PostgreSQL database, with an admin (ada)."""
    directory = tmp_path_factory.mktemp("console-serve-pg")
    with scratch_postgres() as database_url:
        admin = create_token(database_url, "ada", "admin")
        with arbiter_serve(database_url, directory, **console_build) as server:
            check_console_is_served(server.url)
            yield ConsoleServer(server, admin, directory)


class Restartable:
    """`arbiter serve` on a port of its own that a test may kill (SIGKILL) and start again on
    the same port and database."""

    def __init__(self, database_url: str, log_dir: Path, settings: dict[str, str]) -> None:
        self.database_url = database_url
        self.log_dir = log_dir
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = self.log_dir / f"serve-{self.port}-{self.starts}.stderr"
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                [ARBITER, "serve", "--port", str(self.port)],
                env=arbiter_env(self.database_url, **self.settings),
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(trust_env=False, timeout=5) as http:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if http.get(f"{self.url}/readyz").status_code == 200:
                        return
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"arbiter serve did not become ready:\n{log.read_text()[-3000:]}")
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown, sockets cut."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def restartable_server(
    console_build: dict[str, str], tmp_path: Path
) -> Iterator[tuple[Restartable, str]]:
    """A Restartable server on a fresh SQLite file, started; and its admin's token."""
    database_url = migrated_sqlite(tmp_path)
    admin = create_token(database_url, "ada", "admin")
    server = Restartable(database_url, tmp_path, console_build)
    server.start()
    try:
        yield server, admin
    finally:
        server.stop()


@dataclass
class Excuse:
    pattern: re.Pattern[str]
    why: str


class ConsolePage:
    """One page of the console in a browser context of its own, watched for errors."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.problems: list[str] = []
        self.excuses: list[Excuse] = []
        self.keys_pressed: list[str] = []
        self.subscriptions: dict[str, dict[str, Any]] = {}  # graphql-ws id -> its variables
        self.events: list[str] = []  # the subscription id of every `next` with data
        page.on("websocket", self._on_websocket)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("request", self._on_request)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text} ({message.location})")

    def _on_request(self, request: Request) -> None:
        url = request.url
        if not (url.startswith(self.origin) or url.startswith(("data:", "blob:"))):
            ws = self.origin.replace("http://", "ws://", 1)
            if not url.startswith(ws):
                self.problems.append(f"request to another origin: {url}")

    def _on_websocket(self, socket: WebSocket) -> None:
        def sent(payload: str | bytes) -> None:
            message = json.loads(payload)
            if message.get("type") == "subscribe":
                self.subscriptions[message["id"]] = message["payload"].get("variables") or {}

        def received(payload: str | bytes) -> None:
            message = json.loads(payload)
            if message.get("type") == "next" and (message.get("payload") or {}).get("data"):
                self.events.append(message["id"])

        socket.on("framesent", sent)
        socket.on("framereceived", received)

    def events_heard(self, workflow: str) -> int:
        """Subscription events of `workflow` this page received over its WebSocket."""
        ids = {
            i
            for i, variables in self.subscriptions.items()
            if variables.get("workflow") == workflow
        }
        return sum(1 for i in self.events if i in ids)

    def until_live(self, workflow: str, poke: Callable[[], object], tries: int = 40) -> int:
        """Call `poke` (a change to `workflow`) until this page hears an event of `workflow`:
        its subscriptions are then running on the server (graphql-ws does not acknowledge a
        subscribe, and events before it are not replayed). How many pokes it took. Up to
        forty seconds: on a loaded CI machine five, once ten and once twenty were not
        enough for a subscription to start; a live page answers at the first poke."""
        for n in range(1, tries + 1):
            heard = self.events_heard(workflow)
            poke()
            for _ in range(20):
                self.page.wait_for_timeout(50)  # lets Playwright deliver the frames
                if self.events_heard(workflow) > heard:
                    return n
        pytest.fail(f"the page never heard an event of {workflow} after {tries} changes")

    def excuse(self, pattern: str, why: str) -> None:
        """Console errors matching `pattern` are expected in this test, because `why`."""
        self.excuses.append(Excuse(re.compile(pattern), why))

    def unexcused_problems(self) -> list[str]:
        return [p for p in self.problems if not any(e.pattern.search(p) for e in self.excuses)]

    # Navigation ---------------------------------------------------------------------

    def open(self, path: str = "/console/") -> None:
        self.page.goto(f"{self.origin}{path}")

    def open_workflow(self, name: str) -> None:
        """From the workflow list, choose `name` with the keyboard (focus it, press Enter)."""
        self.page.get_by_role("heading", name="Workflows").wait_for()
        choice = self.page.get_by_role("link", name=name, exact=True).or_(
            self.page.get_by_role("button", name=name, exact=True)
        )
        choice.focus()
        self.press("Enter")

    # The screen ---------------------------------------------------------------------

    @property
    def item(self) -> Locator:
        return self.page.get_by_role("region", name="Item")

    @property
    def queue(self) -> Locator:
        return self.page.get_by_role("listbox", name="Queue").or_(
            self.page.get_by_role("list", name="Queue")
        )

    def queue_row(self, text: str) -> Locator:
        rows = self.queue.get_by_role("option").or_(self.queue.get_by_role("listitem"))
        return rows.filter(has_text=text)

    def wait_for_item(self, external_id: str) -> None:
        """The open item is the one with this external id."""
        expect(self.item).to_contain_text(external_id)

    def button(self, name: str) -> Locator:
        return self.page.get_by_role("button", name=name, exact=True)

    # Keys ---------------------------------------------------------------------------

    def press(self, *keys: str) -> None:
        """Press each key in turn (keyboard.press), counting them."""
        for key in keys:
            self.page.keyboard.press(key)
            self.keys_pressed.append(key)

    def type(self, text: str) -> None:
        """Type `text`, a key per character (counted)."""
        for character in text:
            self.page.keyboard.type(character)
            self.keys_pressed.append(character)

    def keydowns(self) -> list[str]:
        """The trusted keydown events the page itself saw since it loaded."""
        return list(self.page.evaluate("window.__arbiterKeys || []"))

    # Checks -------------------------------------------------------------------------

    def look(self, name: str, region: Locator | None = None) -> None:
        """axe-core finds no serious or critical violation on the page; a screenshot of it
        (or of `region`) in docs/screenshots/<name>.png."""
        self.check_accessibility(name)
        self.screenshot(name, region)

    def screenshot(self, name: str, region: Locator | None = None) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = region if region is not None else self.page
        target.screenshot(path=SCREENSHOTS / f"{name}.png", animations="disabled", caret="hide")

    def check_accessibility(self, screen: str) -> None:
        # evaluate() runs outside the page's CSP, unlike an injected <script>.
        if not self.page.evaluate("typeof window.axe === 'object'"):
            self.page.evaluate(AXE.read_text())
        violations = self.page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
                .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                              nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}))"""
        )
        serious = [v for v in violations if v["impact"] in SERIOUS]
        assert not serious, f"axe on the {screen} screen: " + "; ".join(
            f"{v['impact']} {v['id']} ({v['help']}) at {v['nodes']}" for v in serious
        )


OpenConsole = Callable[..., ConsolePage]


@pytest.fixture
def console(chromium: Browser) -> Iterator[OpenConsole]:
    """open(origin, token=None, path="/console/"): a console page in a new browser context,
    signed in with `token` (put in sessionStorage before the page loads) when given, at
    `path` (None: not loaded yet). At the end, any
    unexcused console error, page error or foreign request fails the test."""
    contexts = []
    pages: list[ConsolePage] = []

    def open_console(
        origin: str, token: str | None = None, path: str | None = "/console/"
    ) -> ConsolePage:
        context = chromium.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="UTC")
        context.set_default_timeout(10_000)
        contexts.append(context)
        context.add_init_script(KEY_COUNTER)
        if token is not None:
            # Once per tab, so that signing out is not undone by the next page load.
            context.add_init_script(
                "if (!sessionStorage.getItem('arbiter.test.seeded')) {"
                f"  sessionStorage.setItem({TOKEN_KEY!r}, {token!r});"
                "  sessionStorage.setItem('arbiter.test.seeded', '1'); }"
            )
        console_page = ConsolePage(context.new_page(), origin)
        pages.append(console_page)
        if path:
            console_page.open(path)
        return console_page

    yield open_console
    problems = [p for page in pages for p in page.unexcused_problems()]
    for context in contexts:
        context.close()
    if problems:
        pytest.fail("the browser reported:\n" + "\n".join(problems), pytrace=False)
