"""wrk, the load generator of the HTTP benchmarks: a run with a Lua script, its figures.

wrk runs as its own process for a bounded time; the Lua `done` hook prints its summary
as one JSON line and the script's own `ok`/`bad` counters, which `wrk()` reads back.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any


def require_wrk() -> str:
    """The path of wrk; exits with how to install it when it is missing."""
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: `apt-get install -y wrk` (Debian's package)")
    return found


def wrk_version() -> str | None:
    """wrk's version (`wrk -v`), or None when it is not installed."""
    found = shutil.which("wrk")
    if found is None:
        return None
    return subprocess.run([found, "-v"], capture_output=True, text=True).stdout.split()[1]


@dataclass
class WrkRun:
    """One wrk run's figures: requests, duration, errors, latency (ms) and the script's
    counters."""

    requests: int
    seconds: float
    errors: int  # socket errors, timeouts and non-2xx answers
    latency_ms: dict[str, float]
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


LUA_DONE = """
local wrk_threads = {}
setup = function(thread)
  table.insert(wrk_threads, thread)
  if bench_setup then bench_setup(thread) end
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRK-JSON {"requests": %d, "micros": %d, "errors": %d, "p50": %d, "p90": %d, '
    .. '"p99": %d, "max": %d, "mean": %.1f}\\n',
    summary.requests, summary.duration, errors, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
  for _, thread in ipairs(wrk_threads) do
    for _, name in ipairs({"ok", "bad"}) do
      local value = thread:get(name)
      if value then io.write(string.format("COUNT %s %d\\n", name, value)) end
    end
  end
end
"""


def wrk(
    url: str,
    script: str,
    *,
    connections: int,
    seconds: float,
    threads: int = 1,
    environment: dict[str, str] | None = None,
) -> WrkRun:
    """Run wrk with a Lua `script` (which sets wrk.method/body/headers or request()).

    The script's own output lines `COUNT name n` are summed into `counters`.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script + "\n" + LUA_DONE)
        path = file.name
    try:
        completed = subprocess.run(
            [
                require_wrk(),
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                path,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            env={**os.environ, **(environment or {})},
        )
    finally:
        os.unlink(path)
    summary: dict[str, Any] | None = None
    counters: dict[str, int] = {}
    for line in completed.stdout.splitlines():
        if line.startswith("WRK-JSON "):
            summary = json.loads(line[len("WRK-JSON ") :])
        elif line.startswith("COUNT "):
            _, name, value = line.split()
            counters[name] = counters.get(name, 0) + int(value)
    if summary is None:
        raise RuntimeError(f"wrk failed:\n{completed.stdout}\n{completed.stderr}")
    if completed.stderr:
        sys.stderr.write(completed.stderr)  # what the script says about bad answers
    return WrkRun(
        requests=summary["requests"],
        seconds=summary["micros"] / 1e6,
        errors=summary["errors"],
        latency_ms={k: summary[k] / 1000 for k in ("p50", "p90", "p99", "max", "mean")},
        counters=counters,
    )


def post_script(token: str, body: str, expect: str) -> str:
    """wrk Lua for one JSON POST, repeated; an answer is `ok` when it is a 200 whose body
    contains `expect`, else `bad` (counted into WrkRun.counters)."""
    return f"""
wrk.method = "POST"
wrk.body = {lua_string(body)}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
ok, bad = 0, 0
response = function(status, headers, body)
  if status == 200 and string.find(body, {lua_string(expect)}, 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
  end
end
"""


def lua_string(value: str) -> str:
    """A Lua long-bracket string literal holding `value` as it is."""
    level = 0
    while f"]{'=' * level}]" in value:
        level += 1
    return f"[{'=' * level}[{value}]{'=' * level}]"
