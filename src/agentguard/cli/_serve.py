"""``agentguard serve``: the hooks as a persistent loopback HTTP server (Claude Code's ``http`` hooks).

::

    $ agentguard serve --policy .claude/agentguard_policy.py          # 127.0.0.1:8717
    $ export AGENTGUARD_TOKEN="$(agentguard serve --print-token)"     # for the hook's header

``POST /v1/hooks/claude-code`` (also ``/codex``, ``/gemini``) takes the hook input as its body and
answers with the same JSON the command hook prints, status 200. The policy file is loaded once (and
again when it changes); a decision takes well under a millisecond of the server's time, so the
round trip is what a hook costs.

Safety: the server binds loopback addresses only; every ``POST`` needs ``Authorization: Bearer
TOKEN`` with the per-install token (created once, mode 0600, in ``$AGENTGUARD_TOKEN_FILE`` or
``~/.config/agentguard/serve-token``); a request with an ``Origin`` header (a browser) or a ``Host``
that is not a loopback name is refused (403), which stops cross-site requests and DNS rebinding. A
hook request without the right token is answered ``deny`` (so a misconfigured hook fails closed)
and changes nothing. ``GET /healthz`` needs no token and says only ``{"ok": true}``.

Decisions past ``--deadline`` seconds are answered ``deny``; the decision keeps running in its
thread until it ends (Python cannot stop a thread), so the command hook, which forks, is the one to
use when policies may be slow. Decisions are recorded into the local store by a background thread
after the answer is sent (``--no-record`` turns that off; a full queue drops and counts).
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import queue
import secrets
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ._common import CommandError
from ._hook_client import token_path
from ._hook_protocols import PROTOCOLS, HookInputError, HookProtocol

HELP = "Serve the agent hooks over loopback HTTP (Claude Code `http` hooks), with a per-install token."

DEFAULT_PORT = 8717
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_MAX_BODY = 64 * 1024 * 1024


def install_token(path: Path | None = None) -> str:
    """The per-install token, created (mode 0600) the first time."""
    path = path or Path(token_path())
    try:
        text = path.read_text().strip()
        if text:
            return text
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    return token


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", metavar="FILE", help="a Python file that defines `policy`")
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0 picks one")
    parser.add_argument("--deadline", type=float, default=10.0, metavar="SECONDS", help="deny past this")
    parser.add_argument(
        "--no-record", action="store_true", help="do not record decisions into the local store"
    )
    parser.add_argument("--print-token", action="store_true", help="print the per-install token and exit")


class HookServer(ThreadingHTTPServer):
    """The loopback server; ``engines`` keeps one loaded policy per agent."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        policy_path: str,
        token: str,
        deadline: float = 10.0,
        record: bool = True,
    ) -> None:
        if address[0] not in _LOOPBACK:
            raise CommandError(
                f"serve binds loopback addresses only ({', '.join(_LOOPBACK)}), not {address[0]!r}"
            )
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)
        self.policy_path = policy_path
        self.token = token.encode()
        self.deadline = deadline
        self.record = record
        self.dropped = 0
        self._engines: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="agentguard-decide")
        self._records: queue.Queue[tuple[HookProtocol, Any]] = queue.Queue(maxsize=1024)
        if record:
            threading.Thread(target=self._recorder, name="agentguard-record", daemon=True).start()

    def engine(self, protocol: HookProtocol) -> Any:
        """The protocol's engine, reloaded when the policy file changes."""
        from ._hook_engine import HookEngine

        try:
            mtime = os.stat(self.policy_path).st_mtime
        except OSError:
            mtime = -1.0
        with self._lock:
            cached = self._engines.get(protocol.agent)
            if cached is not None and cached[0] == mtime:
                return cached[1]
        engine = HookEngine(protocol, self.policy_path)
        with self._lock:
            self._engines[protocol.agent] = (mtime, engine)
        return engine

    def answer(self, protocol: HookProtocol, body: bytes) -> dict[str, Any]:
        """The hook answer to one request body (never raises)."""
        future = self._pool.submit(self._decide, protocol, body)
        try:
            answer, recorded = future.result(timeout=self.deadline)
        except FutureTimeout:
            return protocol.answer(
                "deny", f"agentguard deny (deadline): no decision within {self.deadline:g} s"
            )
        except Exception as exc:
            return protocol.answer("deny", f"agentguard: hook failed: {type(exc).__name__}: {exc}")
        if recorded is not None and self.record:
            try:
                self._records.put_nowait((protocol, recorded))
            except queue.Full:
                self.dropped += 1
        return answer

    def _decide(self, protocol: HookProtocol, body: bytes) -> tuple[dict[str, Any], Any]:
        from ._policy_file import parse_json

        try:
            call = protocol.parse(parse_json(body.decode("utf-8", errors="replace"), "hook input"))
            engine = self.engine(protocol)
            verdict = engine.decide(call)
        except (CommandError, HookInputError) as err:
            return protocol.answer("deny", f"agentguard: {err}"), None
        return protocol.answer(verdict.outcome, verdict.reason), (call, verdict, engine.project)

    def _recorder(self) -> None:
        from ._hook_record import record

        while True:
            protocol, (call, verdict, project) = self._records.get()
            record(protocol.agent, call, verdict, project)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


class _Handler(BaseHTTPRequestHandler):
    server: HookServer
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a connection may sit idle or half-sent
    disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart (delayed ACK)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _refused(self) -> bool:
        """A browser (``Origin``) or a non-loopback ``Host`` (DNS rebinding): answered 403."""
        host = (self.headers.get("Host") or "").strip().lower()
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]", 1)[0] + "]"
        if self.headers.get("Origin") is not None or name not in ("127.0.0.1", "localhost", "[::1]"):
            self.close_connection = True
            self._send(403, {"error": "forbidden"})
            return True
        return False

    def do_GET(self) -> None:
        if self._refused():
            return
        if self.path == "/healthz":
            self._send(200, {"ok": True})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        if self._refused():
            return
        prefix = "/v1/hooks/"
        agent = self.path[len(prefix) :] if self.path.startswith(prefix) else ""
        protocol = PROTOCOLS.get(agent)
        if protocol is None:
            self._send(404, {"error": "not found"})
            return
        try:
            length = int(self.headers.get("Content-Length") or "-1")
        except ValueError:
            length = -1
        if length < 0 or length > _MAX_BODY:
            self.close_connection = True
            self._send(200, protocol.answer("deny", "agentguard: the request has no body of a usable length"))
            return
        body = self.rfile.read(length)
        given = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip().encode()
        if not hmac.compare_digest(given, self.server.token):
            self._send(200, protocol.answer("deny", "agentguard: the hook request has no valid token"))
            return
        self._send(200, self.server.answer(protocol, body))


def run(args: argparse.Namespace) -> int:
    if args.print_token:
        print(install_token())
        return 0
    policy = args.policy or os.environ.get("AGENTGUARD_POLICY")
    if not policy:
        raise CommandError("give --policy FILE (or set AGENTGUARD_POLICY)")
    from ._policy_file import load_policy

    load_policy(policy)  # a broken policy file is reported now, not on the first call
    server = HookServer(
        (args.host, args.port),
        policy_path=policy,
        token=install_token(),
        deadline=args.deadline if args.deadline > 0 else 10.0,
        record=not args.no_record,
    )
    host, port = str(server.server_address[0]), int(server.server_address[1])
    print(
        f"agentguard serve: http://{host}:{port}/v1/hooks/claude-code (token: {token_path()})",
        file=sys.stderr,
    )
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
    return 0
