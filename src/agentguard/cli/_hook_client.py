"""A command hook that hands its call to a running ``agentguard serve``: the cold start's fast path.

``agentguard hook codex --server http://127.0.0.1:8717`` (or ``$AGENTGUARD_HOOK_SERVER``) sends the
hook input to the server and prints its answer: the process then costs the interpreter and this
module, not the normaliser's imports. Whenever the server gives no usable answer (not running, wrong
token, a timeout, anything but ``200`` with a JSON object), the hook decides the call itself, as
without ``--server``: forwarding never fails open.

Only the standard library's ``socket`` is used (no ``http.client``, whose imports cost more than the
request). Loopback servers only: any other host is not contacted.
"""

from __future__ import annotations

import json
import os

AGENTS = ("claude-code", "codex", "gemini")
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def token_path() -> str:
    """Where the per-install token of ``agentguard serve`` lives."""
    env = os.environ.get("AGENTGUARD_TOKEN_FILE")
    if env:
        return env
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "agentguard", "serve-token")


def _address(server: str) -> tuple[str, int] | None:
    rest = server.removeprefix("http://").split("/", 1)[0]
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        return None
    if host not in _LOOPBACK:
        return None
    return host.strip("[]"), int(port)


def forward(agent: str, body: bytes, server: str, timeout: float) -> dict[str, object] | None:
    """The server's answer to one hook call, or ``None`` when it gives no usable one."""
    address = _address(server)
    if address is None or agent not in AGENTS:
        return None
    import socket

    try:
        with open(token_path()) as file:
            token = file.read().strip()
    except OSError:
        return None
    head = (
        f"POST /v1/hooks/{agent} HTTP/1.1\r\nHost: {address[0]}:{address[1]}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    chunks: list[bytes] = []
    try:
        with socket.create_connection(address, timeout=timeout) as conn:
            conn.sendall(head + body)
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
    except OSError:
        return None
    status, _, rest = b"".join(chunks).partition(b"\r\n")
    if status.split(b" ", 2)[1:2] != [b"200"]:
        return None
    payload = rest.partition(b"\r\n\r\n")[2]
    try:
        answer = json.loads(payload)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None
