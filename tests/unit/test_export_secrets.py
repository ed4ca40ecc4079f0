"""A corpus of 20 credential kinds never reaches the store file or the OTLP wire, capture on or off.

Each secret is freshly generated, put in its natural context (an env line, a curl flag, a URL...)
and sent through every path that leaves the process: the run's task, a tool's arguments, the
exception the tool raises (message and stack trace), the span status, a policy decision's reason,
and the agent's own exception. Then the raw bytes of the SQLite files and of every OTLP request are
searched for the secret part.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def _alnum(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _mixed(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    # Upper, lower and digits are all present, as in any real generated key.
    while True:
        token = _alnum(n, alphabet)
        if (
            any(c.isupper() for c in token)
            and any(c.islower() for c in token)
            and any(c.isdigit() for c in token)
        ):
            return token


def corpus() -> dict[str, tuple[str, str]]:
    """kind -> (the secret part, the text it appears in)."""
    upper = string.ascii_uppercase + string.digits
    aws_id = "AKIA" + _alnum(16, upper)
    aws_secret = _mixed(38) + "/+"
    aws_secret_2 = _mixed(39) + "/"
    password = "Pw" + _mixed(14)
    jwt = "eyJ" + _mixed(20) + ".eyJ" + _mixed(30) + "." + _mixed(43)
    pem_body = _mixed(64)
    kinds = {
        "openai": (o := "sk-proj-" + _mixed(40), f"OPENAI_API_KEY={o}"),
        "anthropic": (a := "sk-ant-api03-" + _mixed(60), f"echo {a} > key.txt"),
        "aws-key-id": (aws_id, f"aws sts get-caller-identity # {aws_id}"),
        "aws-secret-beside-id": (aws_secret, f"login {aws_id} {aws_secret}"),
        "aws-configure-set": (aws_secret_2, f"aws configure set aws_secret_access_key {aws_secret_2}"),
        "github-classic": (g := "ghp_" + _mixed(36), f"git push https://{g}@github.com/o/r.git"),
        "github-fine-grained": (f := "github_pat_" + _mixed(60), f"gh auth login --with-token {f}"),
        "slack": (sl := "xoxb-" + _alnum(12, string.digits) + "-" + _mixed(24), f"post {sl}"),
        "google": (go := "AIza" + _mixed(35), f"curl 'https://maps.example.com/api?key={go}'"),
        "stripe": (st := "sk_live_" + _mixed(24), f"stripe --api-key {st} charges list"),
        "jwt": (jwt, f"curl -b session={jwt} https://app.example.com"),
        "pem": (pem_body, f"-----BEGIN RSA PRIVATE KEY-----\n{pem_body}\n-----END RSA PRIVATE KEY-----"),
        "bearer-header": (b := _mixed(32), f"curl -H 'Authorization: Bearer {b}' https://api.example.com"),
        "curl-user-pass": (password, f"curl -u deploy:{password} https://ci.example.com"),
        "url-userinfo": (u := "Ui" + _mixed(12), f"git clone https://bot:{u}@git.example.com/x.git"),
        "password-flag": (p := "Pf" + _mixed(12), f"psql --password {p} -h db.internal"),
        "dsn": (d := "Ds" + _mixed(12), f"DATABASE_URL=postgres://app:{d}@db.internal:5432/app"),
        "json-client-secret": (c := _mixed(24), json.dumps({"client_id": "app", "client_secret": c})),
        "mysql-glued": (m := "My" + _mixed(12), f"mysql -u root -p{m} prod"),
        "npm-token": (n := "npm_" + _mixed(36), f"npm config set //registry.npmjs.org/:_authToken {n}"),
    }
    assert len(kinds) >= 15
    return kinds


AGENT = """
import json, sys
import agentguard as ag

corpus = json.loads(sys.argv[1])
capture = sys.argv[2] == "on"
endpoint = sys.argv[3]

def explain(action, run):
    return ag.Decision.allow(f"checked {action.command}", rule_id="explain")

policy = ag.Policy(rules=[explain])

@ag.tool(kind="shell")
def run_shell(command: str) -> str:
    raise RuntimeError(f"command failed: {command}")

texts = [text for _, text in corpus.values()]

@ag.guarded(name="rotator", task="rotate: " + " ; ".join(texts), policy=policy)
def agent() -> None:
    for text in texts:
        try:
            run_shell(text)
        except RuntimeError:
            pass
    raise ValueError("gave up on " + " ; ".join(texts))

telemetry = ag.configure(store_path="store/agentguard.db", endpoint=endpoint, capture_content=capture)
try:
    agent()
except ValueError:
    pass
stats = telemetry.shutdown(timeout_s=30)
assert stats.lost == 0, stats
print(stats.exported)
"""


class Collector:
    """An OTLP/HTTP receiver on loopback that keeps every request body."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.bodies.append(self.rfile.read(int(self.headers.get("content-length", 0))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.close()


@pytest.mark.parametrize("capture", ["on", "off"])
def test_no_secret_of_the_corpus_is_stored_or_sent(
    tmp_path: Path, collector: Collector, capture: str
) -> None:
    kinds = corpus()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTGUARD_"))}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(AGENT), json.dumps(kinds), capture, collector.endpoint],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip()) > 2 * len(kinds), "every span reached both destinations"

    stored = b"".join(p.read_bytes() for p in (tmp_path / "store").iterdir() if p.is_file())
    sent = b"".join(collector.bodies)
    assert b"rotator" in stored and b"rotator" in sent, "the run was recorded"
    assert b"exception.stacktrace" in stored and b"exception.stacktrace" in sent
    if capture == "on":
        assert b"aws configure set aws_secret_access_key" in stored, "content was captured"
    leaked = {
        kind: where
        for kind, (secret, _) in kinds.items()
        for where, data in (("store", stored), ("otlp", sent))
        if secret.encode() in data
    }
    contexts = {
        kind: data[max(0, data.find(kinds[kind][0].encode()) - 300) : data.find(kinds[kind][0].encode()) + 60]
        for kind, where in leaked.items()
        for data in [stored if where == "store" else sent]
    }
    assert leaked == {}, contexts
