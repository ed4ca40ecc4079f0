"""The local dashboard server: standard library ``http.server`` on 127.0.0.1.

Routes::

    GET /                          the page
    GET /static/dashboard.{js,css} its assets
    GET /api/meta                  source, counts, refresh interval
    GET /api/panel/NAME?range=S    one panel's data (NAME in overview, refusals, cost, tools,
                                   decisions, approvals, scope, signals; S seconds, 0 = all)
    GET /api/triage?range=S&offset=N&limit=N&q=TEXT
    GET /api/run/RUN_ID            one run's timeline
    GET /api/monitor/findings?state=STATE&offset=N&limit=N
                                   the monitor's findings per session (with ``--monitor DIR``)
    GET /api/monitor/trends?bucket=S
                                   the fleet trends per agent and repository (S seconds a bucket)
    POST /api/monitor/triage       {"session_id", "state", "finding_id"?, "note"?, "by"?}: set the
                                   triage state of a session's findings (or one of them)

Only loopback clients that name this server in ``Host`` are answered (a web page elsewhere cannot
read the store through DNS rebinding), and every response forbids framing and sniffing.

A state change (every ``POST``) also needs, checked by :func:`write_refusal` in this order: an
``Origin`` that is this server's own (a page on another site cannot submit one; a request with no
``Origin`` is not from our page), the per-install token in ``X-Agentguard-Token`` (the live page
carries it in a ``<meta>`` element only this origin can read; a custom header also makes a browser
ask before sending it cross-site, and this server answers no such preflight), and a JSON body of at
most 64 KiB. A server started without a token refuses every ``POST``.

Bounded: requests are served by a pool of ``workers`` threads with room for ``backlog`` more waiting;
beyond that a connection gets ``503`` at once. A client that sends nothing (or too slowly) for
``request_timeout_s`` is disconnected, and every connection closes after one response. Query numbers
that are not integers in range (``range=1e23``, ``offset=-1``) get ``400``.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

from ._api import DashboardApi, NotFound
from ._page import SERVER_CSP, STATIC_FILES, asset, server_page

logger = logging.getLogger("agentguard.dashboard")

_ALLOWED_HOSTS: Final = ("127.0.0.1", "localhost", "[::1]")
TOKEN_HEADER: Final = "X-Agentguard-Token"
_MAX_BODY: Final = 64 * 1024


# The longest range a query may ask for (about 100 years), and the largest offset or page size.
_MAX_RANGE_S: Final = 100 * 366 * 86400
_MAX_COUNT: Final = 1_000_000
_BUSY: Final = b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class BadRequest(ValueError):
    """A query parameter the server cannot use."""


def _int(params: dict[str, list[str]], name: str, default: int, *, low: int, high: int) -> int:
    values = params.get(name)
    if not values:
        return default
    text = values[0].strip()
    if not text:
        return default
    if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 20:
        raise BadRequest(f"{name} must be a whole number, not {text[:40]!r}")
    value = int(text)
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}, not {value}")
    return value


def host_allowed(host: str | None, port: int) -> bool:
    """Whether a ``Host`` header names this server by a loopback name (no DNS rebinding)."""
    return (host or "").strip().lower() in {f"{h}:{port}" for h in _ALLOWED_HOSTS}


def write_refusal(headers: Any, port: int, token: str | None) -> tuple[HTTPStatus, str] | None:
    """Why a state-changing request is refused (status and message), or ``None`` when it may proceed.

    ``headers`` is the request's header mapping (``email.message.Message`` or a ``dict``). The
    checks: ``Host`` and ``Origin`` name this loopback server, the token matches (compared in
    constant time). Fails closed: no token configured refuses everything.
    """
    if not host_allowed(headers.get("host"), port):
        return HTTPStatus.FORBIDDEN, "unexpected Host header"
    origin = (headers.get("origin") or "").strip().lower()
    if origin not in {f"http://{h}:{port}" for h in _ALLOWED_HOSTS}:
        return HTTPStatus.FORBIDDEN, "state changes are accepted from this dashboard's own page only (Origin)"
    if not token:
        return HTTPStatus.FORBIDDEN, "state changes are off: the dashboard was started without a token"
    given = (headers.get(TOKEN_HEADER) or "").strip()
    if not given:
        return HTTPStatus.UNAUTHORIZED, f"missing {TOKEN_HEADER}"
    if not hmac.compare_digest(given.encode(), token.encode()):
        return HTTPStatus.UNAUTHORIZED, f"wrong {TOKEN_HEADER}"
    return None


def _triage_body(raw: bytes) -> tuple[str, str, int | None, str, str]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    session_id, state = body.get("session_id"), body.get("state")
    finding_id, note, by = body.get("finding_id"), body.get("note", ""), body.get("by") or "dashboard"
    if not isinstance(session_id, str) or not session_id:
        raise BadRequest("session_id must be a non-empty string")
    if not isinstance(state, str):
        raise BadRequest("state must be a string")
    if finding_id is not None and (isinstance(finding_id, bool) or not isinstance(finding_id, int)):
        raise BadRequest("finding_id must be a whole number")
    if not isinstance(note, str) or not isinstance(by, str):
        raise BadRequest("note and by must be strings")
    return session_id, state, finding_id, note, by


class _PooledHTTPServer(HTTPServer):
    """An ``HTTPServer`` that hands each connection to a bounded pool of threads."""

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        workers: int,
        backlog: int,
    ) -> None:
        super().__init__(address, handler)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agentguard-dashboard")
        self._slots = threading.BoundedSemaphore(workers + backlog)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(_BUSY)
            self.shutdown_request(request)
            return
        try:
            self._pool.submit(self._serve, request, client_address)
        except RuntimeError:  # the pool is shut down: the server is closing
            self._slots.release()
            self.shutdown_request(request)

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("dashboard connection from %s failed", client_address, exc_info=True)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


class DashboardServer:
    """Serve ``api`` on ``host:port`` (port 0 picks a free one) in a background thread.

    ``workers`` threads answer requests, ``backlog`` more connections may wait for one, and a
    connection idle for ``request_timeout_s`` is closed (see the module docstring). ``token`` is the
    per-install token a state change must carry (``None``: the dashboard is read-only).
    """

    def __init__(
        self,
        api: DashboardApi,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        workers: int = 8,
        backlog: int = 32,
        request_timeout_s: float = 10.0,
        token: str | None = None,
    ) -> None:
        self.api = api
        self.request_timeout_s = request_timeout_s
        self.token = token
        self._httpd = _PooledHTTPServer((host, port), self._handler(), workers=workers, backlog=backlog)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> DashboardServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="agentguard-dashboard", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def close(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self.api
        outer = self

        def port_of() -> int:
            return outer.port

        class Handler(BaseHTTPRequestHandler):
            server_version = "agentguard-dashboard"
            sys_version = ""
            timeout = outer.request_timeout_s  # applied to the connection's socket: reads time out

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("%s " + format, self.address_string(), *args)

            def do_GET(self) -> None:
                if not host_allowed(self.headers.get("host"), port_of()):
                    self._send_json(HTTPStatus.FORBIDDEN, {"error": "unexpected Host header"})
                    return
                url = urlsplit(self.path)
                self._answer(url.path, lambda: self._route(url.path, parse_qs(url.query)))

            def do_POST(self) -> None:
                refusal = write_refusal(self.headers, port_of(), outer.token)
                if refusal is not None:
                    self._send_json(refusal[0], {"error": refusal[1]})
                    return
                path = urlsplit(self.path).path
                self._answer(path, lambda: self._post(path))

            def _post(self, path: str) -> None:
                if path != "/api/monitor/triage":
                    raise NotFound(f"no route POST {path}")
                content_type = (self.headers.get("content-type") or "").split(";")[0].strip().lower()
                if content_type != "application/json":
                    raise BadRequest("the body must be application/json")
                length_text = self.headers.get("content-length") or ""
                if not length_text.isdigit() or int(length_text) > _MAX_BODY:
                    raise BadRequest(f"Content-Length must be a number up to {_MAX_BODY}")
                session_id, state, finding_id, note, by = _triage_body(self.rfile.read(int(length_text)))
                try:
                    done = api.set_triage(session_id, state, finding_id=finding_id, by=by, note=note)
                except ValueError as exc:
                    raise BadRequest(str(exc)) from None
                self._send_json(HTTPStatus.OK, done)

            def _answer(self, path: str, handle: Callable[[], None]) -> None:
                try:
                    handle()
                except NotFound as exc:
                    self._send_json(HTTPStatus.NOT_FOUND, {"error": str(exc)})
                except BadRequest as exc:
                    self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                except sqlite3.Error as exc:
                    self._send_json(
                        HTTPStatus.SERVICE_UNAVAILABLE, {"error": f"cannot read the store: {exc}"}
                    )
                except (TimeoutError, BrokenPipeError, ConnectionResetError):
                    pass
                except Exception as exc:  # a bug of ours: answer it, keep serving
                    logger.exception("dashboard request %s failed", path)
                    self._send_json(
                        HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"}
                    )

            def _route(self, path: str, params: dict[str, list[str]]) -> None:
                range_s = _int(params, "range", 0, low=0, high=_MAX_RANGE_S)
                if path in ("/", "/index.html"):
                    html = server_page(token=outer.token)
                    self._send(HTTPStatus.OK, html.encode(), "text/html; charset=utf-8")
                elif path.startswith("/static/") and path[len("/static/") :] in STATIC_FILES:
                    name = path[len("/static/") :]
                    self._send(HTTPStatus.OK, asset(name).encode(), f"{STATIC_FILES[name]}; charset=utf-8")
                elif path == "/api/meta":
                    self._send_json(HTTPStatus.OK, api.meta())
                elif path.startswith("/api/panel/"):
                    self._send_json(HTTPStatus.OK, api.panel(path[len("/api/panel/") :], range_s))
                elif path == "/api/triage":
                    query = params.get("q", [""])[0]
                    offset = _int(params, "offset", 0, low=0, high=_MAX_COUNT)
                    limit = _int(params, "limit", 25, low=1, high=_MAX_COUNT)
                    page = api.triage(range_s, offset, limit, query)
                    self._send_json(HTTPStatus.OK, page)
                elif path == "/api/monitor/findings":
                    state = params.get("state", [""])[0] or None
                    offset = _int(params, "offset", 0, low=0, high=_MAX_COUNT)
                    limit = _int(params, "limit", 25, low=1, high=_MAX_COUNT)
                    self._send_json(HTTPStatus.OK, api.monitor_findings(state, offset, limit))
                elif path == "/api/monitor/trends":
                    bucket = _int(params, "bucket", 0, low=0, high=_MAX_RANGE_S)
                    if 0 < bucket < 60:
                        raise BadRequest(f"bucket must be at least 60 seconds, not {bucket}")
                    self._send_json(HTTPStatus.OK, api.monitor_trends(bucket or None))
                elif path.startswith("/api/run/"):
                    self._send_json(HTTPStatus.OK, api.run(unquote(path[len("/api/run/") :])))
                elif path == "/favicon.ico":
                    self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
                else:
                    raise NotFound(f"no route {path}")

            def _send_json(self, status: HTTPStatus, payload: Any) -> None:
                body = json.dumps(payload, separators=(",", ":"), default=str).encode()
                self._send(status, body, "application/json")

            def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Referrer-Policy", "no-referrer")
                self.send_header("Content-Security-Policy", SERVER_CSP)
                self.end_headers()
                self.wfile.write(body)

        return Handler
