"""`arbiter audit witness URL`: watch an Arbiter's decision log from outside, through its
public GraphQL API, and fail loudly when the log forks (registered in api.cli.COMMANDS).

Every `--interval` seconds the witness asks for each workflow's signed checkpoint,
checks its signature against the pinned public key (`--public-key`, else the one the
state file recorded, else the server's `logPublicKey` on first use), and judges it
against the checkpoint it kept for that workflow (domain.witness): a log that grew must
prove it only appended (a consistency proof). What holds is kept in the state file
(JSON, replaced atomically), so that a witness started again carries on where it was.

Exit status: 1 on a fork, a bad signature or a changed key (one line each, naming the
workflow, the sizes and what failed; nothing of that workflow is kept); 2 for a mistake
in the command, or with `--once` when the server could not be asked (without `--once` a
network error is one line and the witness tries again at the next interval); 0 when
`--once` found every checkpoint holding.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from api.cli_errors import CliError
from domain.errors import InvalidInputError
from domain.witness import (
    Failed,
    Kept,
    ServedCheckpoint,
    WitnessState,
    decode_public_key,
    judge,
    proof_range,
    same_key,
)

if TYPE_CHECKING:
    import httpx

TOKEN_VARIABLE = "ARBITER_WITNESS_TOKEN"
DEFAULT_INTERVAL = 10.0
"""Seconds between passes."""
TIMEOUT_SECONDS = 30.0
"""How long one request may take."""

KEY_QUERY = "query WitnessKey { logPublicKey workflows { key } }"
CHECKPOINT_QUERY = """query WitnessCheckpoint($workflow: String!) {
  logCheckpoint(workflow: $workflow) { treeSize rootHash note signature }
}"""
PROOF_QUERY = """query WitnessProof($workflow: String!, $fromSize: Int!, $toSize: Int!) {
  consistencyProof(workflow: $workflow, fromSize: $fromSize, toSize: $toSize)
}"""


class ServerError(Exception):
    """The log could not be asked: no connection, an HTTP error, or a GraphQL error."""


class Pass(Enum):
    """What one pass over every workflow found."""

    HELD = "held"
    """Every checkpoint held (or there was none yet)."""
    FAILED = "failed"
    """A fork, a bad signature or checkpoint, or a changed key."""
    UNANSWERED = "unanswered"
    """Nothing failed, but the server could not be asked about everything."""


@dataclass(frozen=True)
class WitnessOptions:
    """What `arbiter audit witness` was told."""

    endpoint: str
    """The GraphQL endpoint's URL."""
    token: str
    state_file: Path | None
    """None: remember only while running."""
    public_key: str | None = None
    interval: float = DEFAULT_INTERVAL
    once: bool = False


def graphql_endpoint(url: str) -> str:
    """The GraphQL endpoint of an Arbiter at `url` (its base URL or the endpoint itself)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(
            f"{url!r} is not an http(s) URL: give the Arbiter's address, "
            "e.g. https://arbiter.example or http://127.0.0.1:8000/graphql"
        )
    base = url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    return base if base.endswith("/graphql") else f"{base}/graphql"


def load_state(path: Path | None) -> WitnessState:
    """The state kept in `path` (a fresh one when the file does not exist yet)."""
    if path is None:
        return WitnessState()
    if not path.parent.is_dir():
        raise CliError(f"cannot keep the witness state in {path}: {path.parent} is not a folder")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return WitnessState()
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read the witness state {path}: {error}") from error
    try:
        return WitnessState.from_json(text)
    except InvalidInputError as error:
        raise CliError(
            f"{path} is not a witness state ({error.message}): give another --state file"
        ) from error


def save_state(path: Path, state: WitnessState) -> None:
    """Write `state` to `path` atomically: a new file beside it, synced, then renamed over it."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as file:
            file.write(state.to_json())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


class LogClient:
    """Asks an Arbiter's GraphQL endpoint, with a bearer token, through an httpx client
    (injected: tests hand one that runs the app in process)."""

    def __init__(self, http: httpx.AsyncClient, endpoint: str, token: str) -> None:
        self._http = http
        self._endpoint = endpoint
        self._headers = {"Authorization": f"Bearer {token}"}

    async def query(self, document: str, variables: dict[str, Any] | None = None) -> Any:
        """The response's `data`; ServerError for anything else."""
        import httpx

        try:
            response = await self._http.post(
                self._endpoint,
                json={"query": document, "variables": variables or {}},
                headers=self._headers,
            )
        except httpx.HTTPError as error:
            raise ServerError(
                f"cannot reach {self._endpoint}: {error or type(error).__name__}"
            ) from error
        try:
            body = response.json()
        except ValueError:
            body = None
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            message = errors[0].get("message") if isinstance(errors[0], dict) else errors[0]
            raise ServerError(f"{self._endpoint} answered: {message}")
        if response.status_code != 200 or not isinstance(body, dict) or body.get("data") is None:
            raise ServerError(
                f"{self._endpoint} answered HTTP {response.status_code} without GraphQL data"
            )
        return body["data"]


class Witness:
    """Checks every workflow's checkpoint once per pass and keeps what holds."""

    def __init__(
        self,
        options: WitnessOptions,
        http: httpx.AsyncClient,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.options = options
        self.client = LogClient(http, options.endpoint, options.token)
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.state = load_state(options.state_file)
        self._saved = self.state.to_json()
        """The state as the state file holds it."""
        given, recorded = options.public_key, self.state.public_key
        if given is not None:
            try:
                decode_public_key(given)
            except InvalidInputError as error:
                raise CliError(f"--public-key: {error.message}") from error
            if recorded is not None and not same_key(given, recorded):
                raise CliError(
                    f"--public-key is not the key {recorded} that {options.state_file} "
                    "pinned: its checkpoints were checked with that key; give another --state"
                )
        self.pinned = self.state.public_key = given or recorded

    async def run(self, sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> int:
        """Pass after pass until a failure (1); with `--once`, one pass: 0 when every
        checkpoint held, 2 when the server could not be asked about all of them."""
        while True:
            result = await self.check()
            if result is Pass.FAILED:
                return 1
            if self.options.once:
                return 0 if result is Pass.HELD else 2
            await sleep(self.options.interval)

    async def check(self) -> Pass:
        """One pass over every workflow. What held is kept, and written to the state file,
        whatever else the pass found."""
        try:
            return await self._check()
        except ServerError as error:
            self._say(self.err, f"error: {error}")
            return Pass.UNANSWERED
        finally:
            self._save()

    async def _check(self) -> Pass:
        data = await self.client.query(KEY_QUERY)
        with _answer("logPublicKey and workflows"):
            served_key = _text(data["logPublicKey"])
            workflows = [_text(workflow["key"]) for workflow in data["workflows"]]
        held = self._check_key(served_key)
        if self.pinned is None:
            return Pass.FAILED
        unanswered = False
        for workflow in workflows:
            try:
                held = await self._check_workflow(workflow, self.pinned) and held
            except ServerError as error:  # the other workflows are still worth checking
                self._say(self.err, f"error: {workflow}: {error}")
                unanswered = True
        if not held:
            return Pass.FAILED
        return Pass.UNANSWERED if unanswered else Pass.HELD

    def _save(self) -> None:
        now = self.state.to_json()
        if self.options.state_file is not None and now != self._saved:
            save_state(self.options.state_file, self.state)
            self._saved = now

    def _check_key(self, served: str) -> bool:
        if self.pinned is None:
            try:
                decode_public_key(served)
            except InvalidInputError as error:
                self._say(self.err, f"BAD KEY: the log's logPublicKey: {error.message}")
                return False
            self.pinned = self.state.public_key = served
            self._say(self.out, f"pinned  the log's public key {served} (trust on first use)")
            return True
        if not same_key(self.pinned, served):
            self._say(
                self.err,
                f"KEY CHANGED: the log now serves the public key {served}, not the pinned "
                f"{self.pinned}",
            )
            return False
        return True

    async def _check_workflow(self, workflow: str, key: str) -> bool:
        from store.log_keys import verify_signature

        data = await self.client.query(CHECKPOINT_QUERY, {"workflow": workflow})
        with _answer(f"logCheckpoint of {workflow!r}"):
            fields = data["logCheckpoint"]
            served = None if fields is None else _served(fields)
        if served is None:
            if self.options.once:
                self._say(self.out, f"skip    {workflow}: no checkpoint yet")
            return True
        signed = verify_signature(key, served.note.encode("utf-8"), _signature(served.signature))
        kept = self.state.checkpoints.get(workflow)
        proof = None
        wanted = proof_range(kept, served.tree_size)
        if signed and wanted is not None:
            variables = {"workflow": workflow, "fromSize": wanted[0], "toSize": wanted[1]}
            answer = await self.client.query(PROOF_QUERY, variables)
            with _answer(f"consistencyProof of {workflow!r}"):
                hashes = answer["consistencyProof"]
                proof = None if hashes is None else [_text(value) for value in hashes]
        verdict = judge(workflow, kept, served, signed, proof)
        if isinstance(verdict, Failed):
            self._say(self.err, verdict.line())
            return False
        if isinstance(verdict, Kept):
            self.state.checkpoints[workflow] = verdict.checkpoint
            self._say(self.out, verdict.line())
        elif self.options.once:
            self._say(self.out, verdict.line())
        return True

    @staticmethod
    def _say(stream: TextIO, line: str) -> None:
        print(line, file=stream, flush=True)


@contextlib.contextmanager
def _answer(what: str) -> Iterator[None]:
    """Turns an answer of the wrong shape into a ServerError naming what was asked."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as error:
        raise ServerError(f"the server's answer for {what} is not what the API states") from error


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a string")
    return value


def _served(fields: dict[str, Any]) -> ServedCheckpoint:
    size = fields["treeSize"]
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"treeSize {size!r} is not an integer")
    return ServedCheckpoint(
        size, _text(fields["rootHash"]), _text(fields["note"]), _text(fields["signature"])
    )


def _signature(text: str) -> bytes:
    """The signature's bytes; none (which no key verifies) when it is not base64."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        return b""


def options_of(args: argparse.Namespace) -> WitnessOptions:
    """The options the command line and ARBITER_WITNESS_TOKEN give; CliError when the
    token is missing or the URL is not one."""
    endpoint = graphql_endpoint(args.url)
    token = args.token or os.environ.get(TOKEN_VARIABLE)
    if not token:
        raise CliError(
            f"no bearer token: pass --token or set {TOKEN_VARIABLE} "
            "(the token of any active user of that Arbiter)"
        )
    state = Path(args.state).absolute() if args.state else None
    return WitnessOptions(endpoint, token, state, args.public_key, args.interval, args.once)


async def watch(options: WitnessOptions, http: httpx.AsyncClient | None = None) -> int:
    """Run the witness over `http` (a new client when None); its exit status."""
    import httpx

    if http is not None:
        return await Witness(options, http).run()
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
        return await Witness(options, client).run()


def audit_witness(args: argparse.Namespace) -> int:
    """`arbiter audit witness URL`: watch the log; exit 1 when it forks."""
    return asyncio.run(watch(options_of(args)))


def _interval(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return seconds


def audit_witness_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("url", help="the Arbiter's base URL, or its /graphql endpoint")
    command.add_argument(
        "--state",
        metavar="FILE",
        help="the JSON file that keeps the pinned key and the last checkpoint of each "
        "workflow between runs (without it, the witness remembers only while it runs)",
    )
    command.add_argument(
        "--token", help=f"a bearer token of any active user (default: ${TOKEN_VARIABLE})"
    )
    command.add_argument(
        "--public-key",
        metavar="B64",
        help="the log's public key (base64, as `arbiter keys show` prints it); default: "
        "the one the state file pinned, else the server's on first use",
    )
    command.add_argument(
        "--interval",
        type=_interval,
        default=DEFAULT_INTERVAL,
        metavar="S",
        help=f"seconds between passes (default {DEFAULT_INTERVAL:g})",
    )
    command.add_argument(
        "--once", action="store_true", help="one pass, then exit 0 when every checkpoint held"
    )
