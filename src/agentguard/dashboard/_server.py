"""The local dashboard server: standard library ``http.server`` on 127.0.0.1.

Routes::

    GET /                          the page
    GET /static/dashboard.{js,css} its assets
    GET /api/meta                  source, counts, refresh interval
    GET /api/panel/NAME?range=S    one panel's data (NAME in overview, refusals, cost, tools,
                                   decisions, approvals, scope, signals; S seconds, 0 = all)
    GET /api/triage?range=S&offset=N&limit=N&q=TEXT
    GET /api/run/RUN_ID            one run's timeline

Only loopback clients that name this server in ``Host`` are answered (a web page elsewhere cannot
read the store through DNS rebinding), and every response forbids framing and sniffing.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

from ._api import DashboardApi, NotFound
from ._page import SERVER_CSP, STATIC_FILES, asset, server_page

logger = logging.getLogger("agentguard.dashboard")

_ALLOWED_HOSTS: Final = ("127.0.0.1", "localhost", "[::1]")


def _int(params: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(params.get(name, [str(default)])[0])
    except ValueError:
        return default


class DashboardServer:
    """Serve ``api`` on ``host:port`` (port 0 picks a free one) in a background thread."""

    def __init__(self, api: DashboardApi, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.api = api
        self._httpd = ThreadingHTTPServer((host, port), self._handler())
        self._httpd.daemon_threads = True
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

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("%s " + format, self.address_string(), *args)

            def do_GET(self) -> None:
                host = (self.headers.get("host") or "").strip().lower()
                if host not in {f"{h}:{port_of()}" for h in _ALLOWED_HOSTS}:
                    self._send_json(HTTPStatus.FORBIDDEN, {"error": "unexpected Host header"})
                    return
                url = urlsplit(self.path)
                params = parse_qs(url.query)
                path = url.path
                try:
                    self._route(path, params)
                except NotFound as exc:
                    self._send_json(HTTPStatus.NOT_FOUND, {"error": str(exc)})
                except sqlite3.Error as exc:
                    self._send_json(
                        HTTPStatus.SERVICE_UNAVAILABLE, {"error": f"cannot read the store: {exc}"}
                    )
                except (BrokenPipeError, ConnectionResetError):
                    pass
                except Exception as exc:  # a bug of ours: answer it, keep serving
                    logger.exception("dashboard request %s failed", path)
                    self._send_json(
                        HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"}
                    )

            def _route(self, path: str, params: dict[str, list[str]]) -> None:
                range_s = max(0, _int(params, "range", 0))
                if path in ("/", "/index.html"):
                    self._send(HTTPStatus.OK, server_page().encode(), "text/html; charset=utf-8")
                elif path.startswith("/static/") and path[len("/static/") :] in STATIC_FILES:
                    name = path[len("/static/") :]
                    self._send(HTTPStatus.OK, asset(name).encode(), f"{STATIC_FILES[name]}; charset=utf-8")
                elif path == "/api/meta":
                    self._send_json(HTTPStatus.OK, api.meta())
                elif path.startswith("/api/panel/"):
                    self._send_json(HTTPStatus.OK, api.panel(path[len("/api/panel/") :], range_s))
                elif path == "/api/triage":
                    query = params.get("q", [""])[0]
                    page = api.triage(range_s, _int(params, "offset", 0), _int(params, "limit", 25), query)
                    self._send_json(HTTPStatus.OK, page)
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
