"""The dashboard and the report in a real headless Chromium, over a store filled by a real guarded run.

The run is the demo scenario (``agentguard.demo._scenario``) played by the real ``openai`` SDK against
``ScriptedServer``, with real tools on a copy of ``examples/demo_repo`` and a real policy and approver,
in a subprocess (``agentguard.configure()`` sets process-wide globals). Chromium is driven over the
DevTools protocol with a small standard-library WebSocket client (no new dependency). Screenshots go
to ``test-output/``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from agentguard.dashboard import DashboardApi, DashboardServer, StoreSource

ROOT = Path(__file__).resolve().parents[2]
DEMO_REPO = ROOT / "examples" / "demo_repo"
OUTPUT = ROOT / "test-output"
PANEL_TITLES = {
    "refusals": "Refusal rate",
    "cost": "Cost",
    "tools": "Tool calls",
    "decisions": "Policy decisions",
    "approvals": "Approvals",
    "scope": "Scope violations",
    "signals": "Signals",
    "triage": "Triage",
}
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--hide-scrollbars",
)


# --- the scenario run ------------------------------------------------------------------------------
SCENARIO_RUNNER = r'''
"""Play agentguard.demo._scenario as a real guarded agent (openai SDK, ScriptedServer, real tools)."""
import argparse, json, shutil, subprocess, sys, time
from pathlib import Path

from openai import OpenAI

import agentguard as ag
from agentguard.approval import ApprovalResult, CallbackApprover
from agentguard.decision import Decision
from agentguard.demo import ScriptedServer
from agentguard.demo import _scenario as scenario
from agentguard.policy import Policy
from agentguard import rules

parser = argparse.ArgumentParser()
parser.add_argument("--store", required=True)
parser.add_argument("--repo", required=True)
parser.add_argument("--workdir", required=True)
parser.add_argument("--runs", type=int, default=2)
parser.add_argument("--prometheus-port", type=int, default=None)
parser.add_argument("--hold", action="store_true", help="keep serving metrics until stdin closes")
args = parser.parse_args()

telemetry = ag.configure(
    service_name="agentguard-scenario", store_path=args.store, prometheus_port=args.prometheus_port,
    span_processor="simple",
)
ag.instrument_openai()
WORK = Path(args.workdir)


def tools_for(root: Path):
    @ag.tool(kind="file_read")
    def read_file(path: str) -> str:
        """Read a file of the repository."""
        return (root / path).read_text()

    @ag.tool(kind="file_write")
    def write_file(path: str, content: str) -> str:
        """Write a file of the repository."""
        (root / path).write_text(content)
        return f"wrote {len(content)} bytes to {path}"

    @ag.tool(kind="shell")
    def run(command: str) -> str:
        """Run a shell command in the repository."""
        done = subprocess.run(command, shell=True, cwd=root, capture_output=True, text=True, timeout=120,
                              env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(root)})
        return f"exit {done.returncode}\n{done.stdout[-1500:]}{done.stderr[-1500:]}"

    return {"read_file": read_file, "write_file": write_file, "run": run}


def review_commits(action, run):
    """Commits wait for a human review."""
    if action.kind == "shell" and " commit" in (action.command or ""):
        return Decision.ask("commits need a review", rule_id="review_commits")
    return None


def approve(request):
    time.sleep(0.2)  # a reviewer reading the request
    return ApprovalResult(granted=True, by="demo-reviewer", scope="once")


def schema(name, **params):
    return {"type": "function", "function": {"name": name, "parameters": {
        "type": "object", "properties": {p: {"type": "string"} for p in params}, "required": list(params)}}}


TOOLS = [schema("read_file", path=1), schema("write_file", path=1, content=1), schema("run", command=1)]


def loop(client, registry, goal, streamed=frozenset()):
    messages = [{"role": "user", "content": goal}]
    for turn in range(12):
        if turn in streamed:
            text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
                model="gpt-4o-mini", messages=messages, tools=TOOLS, stream=True) if c.choices)
            return text
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append({"role": "assistant", "content": message.content or "",
                         "tool_calls": [c.model_dump() for c in message.tool_calls]})
        for call in message.tool_calls:
            arguments = json.loads(call.function.arguments)
            try:
                result = registry[call.function.name](**arguments)
            except ag.Denied as denied:
                result = f"denied: {denied}"
            except Exception as exc:
                result = f"error: {type(exc).__name__}: {exc}"
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    return "gave up"


for i in range(args.runs):
    root = WORK / f"repo-{i}"
    shutil.copytree(args.repo, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    git = ["git", "-c", "user.name=demo", "-c", "user.email=demo@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "initial"], cwd=root, check=True)
    policy = Policy(
        scope=ag.Scope(root=str(root), write=["src/**"], read=["**"]),
        rules=[rules.destructive_commands(), rules.protect([".git/**"]), review_commits],
        name="demo",
    )
    registry = tools_for(root)
    agent = ag.guarded(name="fixer", task=scenario.TASK, policy=policy,
                       approver=CallbackApprover(approve, name="demo-reviewer"))(loop)
    with ScriptedServer(scenario.STEPS) as server:
        client = OpenAI(base_url=server.base_url, api_key="local")
        print("fixer:", agent(client, registry, scenario.GOAL, scenario.STREAMED_STEPS), flush=True)

refuser = ag.guarded(name="ops-agent", task=scenario.REFUSAL_TASK)(loop)
with ScriptedServer(scenario.REFUSAL_STEPS) as server:
    client = OpenAI(base_url=server.base_url, api_key="local")
    print("ops-agent:", refuser(client, {}, scenario.REFUSAL_GOAL), flush=True)

if args.hold:
    print(f"READY {telemetry.prometheus_port}", flush=True)
    sys.stdin.read()
telemetry.shutdown()
'''


def scenario_command(
    tmp: Path, store: Path, *, runs: int = 2, prometheus_port: int | None = None
) -> list[str]:
    script = tmp / "scenario_runner.py"
    script.write_text(SCENARIO_RUNNER)
    workdir = tmp / "work"
    workdir.mkdir(exist_ok=True)
    argv = [sys.executable, str(script), "--store", str(store), "--repo", str(DEMO_REPO)]
    argv += ["--workdir", str(workdir), "--runs", str(runs)]
    if prometheus_port is not None:
        argv += ["--prometheus-port", str(prometheus_port), "--hold"]
    return argv


def scenario_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_"))}
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


@pytest.fixture(scope="module")
def scenario_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("scenario")
    store = tmp / ".agentguard" / "agentguard.db"
    done = subprocess.run(
        scenario_command(tmp, store),
        env=scenario_env(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert store.is_file()
    return store


# --- a minimal Chrome DevTools Protocol client over a standard-library WebSocket -----------------
class CDP:
    """One DevTools WebSocket: ``call(method, **params)`` and the events received meanwhile."""

    def __init__(self, ws_url: str, timeout: float = 30.0) -> None:
        u = urlsplit(ws_url)
        assert u.hostname and u.port
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            assert chunk, "DevTools closed the connection during the handshake"
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        assert b" 101 " in head.split(b"\r\n")[0], head
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            assert chunk, "DevTools closed the connection"
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send(self, opcode: int, data: bytes) -> None:
        n = len(data)
        header = bytes([0x80 | opcode])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _message(self) -> dict[str, Any]:
        parts: list[bytes] = []
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exact(8))[0]
            payload = self._exact(n)
            opcode = b0 & 0x0F
            if opcode == 0x9:  # ping
                self._send(0xA, payload)
                continue
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            parts.append(payload)
            if b0 & 0x80:
                message: dict[str, Any] = json.loads(b"".join(parts))
                return message

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self._send(0x1, json.dumps({"id": self.next_id, "method": method, "params": params}).encode())
        while True:
            message = self._message()
            if message.get("id") == self.next_id:
                assert "error" not in message, (method, message["error"])
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def wait_for(self, expression: str, *, timeout: float = 30.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what or expression}")
            time.sleep(0.2)

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors (CSP, failed loads) so far."""
        self.call("Runtime.evaluate", expression="0")  # drain pending events
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                out.append(json.dumps(p.get("exceptionDetails", {}))[:500])
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(json.dumps(p.get("args", []))[:500])
            elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(p["entry"].get("text", "")[:500])
        return out

    def screenshot(self, path: Path, width: int = 1440) -> None:
        height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)"))
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        time.sleep(0.3)
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        self.call(
            "Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=False
        )

    def click(self, selector: str) -> None:
        box = self.evaluate(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)}); if (!el) return null;"
            " el.scrollIntoView({block: 'center'}); const r = el.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        assert box, f"nothing matches {selector}"
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def close(self) -> None:
        self.sock.close()


def chromium() -> str:
    found = (
        os.environ.get("AGENTGUARD_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        from harness import missing

        missing("the `chromium` binary is not on PATH (apt-get install -y --no-install-recommends chromium)")
    assert found
    return found


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Callable[[str], CDP]]:
    profile = tmp_path / "chromium-profile"
    log = (OUTPUT / "components").resolve()
    log.mkdir(parents=True, exist_ok=True)
    with (log / "chromium.log").open("ab") as out:
        proc = subprocess.Popen(
            [
                chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--window-size=1440,900",
                "about:blank",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    clients: list[CDP] = []
    try:
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (active.is_file() and active.read_text().strip()):
            assert proc.poll() is None, "chromium exited; see test-output/components/chromium.log"
            assert time.monotonic() < deadline, "chromium did not start its DevTools server"
            time.sleep(0.1)
        port = int(active.read_text().split()[0])

        def open_page(url: str) -> CDP:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                targets = json.load(r)
            page = next(t for t in targets if t["type"] == "page")
            cdp = CDP(page["webSocketDebuggerUrl"])
            clients.append(cdp)
            for domain in ("Runtime", "Log", "Page"):
                cdp.call(f"{domain}.enable")
            cdp.call(
                "Emulation.setDeviceMetricsOverride",
                width=1440,
                height=900,
                deviceScaleFactor=1,
                mobile=False,
            )
            cdp.call("Page.navigate", url=url)
            cdp.wait_for("document.readyState === 'complete'", what="the page to load")
            return cdp

        yield open_page
    finally:
        for c in clients:
            c.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


PANEL_STATES = (
    "JSON.stringify([...document.querySelectorAll('[data-panel]')].map(p => "
    "[p.dataset.panel, p.dataset.state || '', p.querySelector('h2').textContent.trim()]))"
)


def assert_panels_with_data(cdp: CDP) -> None:
    cdp.wait_for(
        "[...document.querySelectorAll('[data-panel]')].every(p => p.dataset.state)",
        what="every panel to render",
    )
    panels = {name: (state, title) for name, state, title in json.loads(cdp.evaluate(PANEL_STATES))}
    assert {name: title for name, (_, title) in panels.items()} == PANEL_TITLES
    assert {name: state for name, (state, _) in panels.items()} == dict.fromkeys(PANEL_TITLES, "data")


def assert_timeline_opens(cdp: CDP) -> None:
    """Click the second run of the triage list: its timeline shows LLM calls, tools, decisions, signals."""
    cdp.wait_for("document.querySelectorAll('#triage-table tr[data-run]').length >= 2", what="triage rows")
    run_id = cdp.evaluate(
        "document.querySelectorAll('#triage-table tr[data-run]')[1].getAttribute('data-run')"
    )
    cdp.click("#triage-table tr[data-run]:nth-child(2)")
    cdp.wait_for(
        f"document.getElementById('timeline').dataset.run === {json.dumps(run_id)}", what="the timeline"
    )
    counts = cdp.evaluate(
        "(() => { const t = document.getElementById('timeline'); return {"
        " llm: t.querySelectorAll('.tl-span[data-type=llm]').length,"
        " tool: t.querySelectorAll('.tl-span[data-type=tool]').length,"
        " decision: t.querySelectorAll('.tl-ev[class*=decision-]').length,"
        " signal: t.querySelectorAll('.tl-ev[class*=sev-]').length}; })()"
    )
    assert counts["llm"] >= 1 and counts["tool"] >= 1 and counts["decision"] >= 1 and counts["signal"] >= 1, (
        counts
    )
    cdp.click("#triage-table tr[data-run]:nth-child(1)")


def test_dashboard_in_chromium(scenario_store: Path, browser: Callable[[str], CDP]) -> None:
    source = StoreSource(scenario_store)
    source.refresh()
    with DashboardServer(DashboardApi(source)) as server:
        cdp = browser(server.url)
        assert_panels_with_data(cdp)
        assert cdp.evaluate("document.getElementById('status').className").endswith("live")
        assert_timeline_opens(cdp)
        cdp.wait_for("document.querySelector('#timeline .tl-head') !== null", what="the first run's timeline")
        cdp.screenshot(OUTPUT / "dashboard.png")
        assert cdp.errors() == []
    source.close()


def test_report_in_chromium(scenario_store: Path, browser: Callable[[str], CDP], tmp_path: Path) -> None:
    report = OUTPUT / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "agentguard", "report", "--store", str(scenario_store), "-o", str(report)],
        env=scenario_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    cdp = browser(report.resolve().as_uri())
    assert_panels_with_data(cdp)
    assert cdp.evaluate("document.getElementById('status').className").endswith("static")
    assert_timeline_opens(cdp)
    cdp.screenshot(OUTPUT / "report.png")
    assert cdp.errors() == []


def test_empty_store_shows_the_empty_state(tmp_path: Path, browser: Callable[[str], CDP]) -> None:
    source = StoreSource(tmp_path / "missing" / "agentguard.db")
    with DashboardServer(DashboardApi(source)) as server:
        cdp = browser(server.url)
        cdp.wait_for("!document.getElementById('banner').hidden", what="the empty-state banner")
        assert "Waiting for a store" in cdp.evaluate("document.getElementById('banner').textContent")
        states = {name: state for name, state, _ in json.loads(cdp.evaluate(PANEL_STATES))}
        assert states["scope"] == "data"  # "no violations" is good news, not an empty panel
        assert {n for n, s in states.items() if s == "empty"} == set(PANEL_TITLES) - {"scope"}
        cdp.screenshot(OUTPUT / "dashboard-empty.png")
        assert cdp.errors() == []
