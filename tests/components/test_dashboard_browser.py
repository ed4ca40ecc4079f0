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
import re
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
from agentguard.action import Decision
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


# --- layout at the widths people use: 1024, 1400 and 1920 px ---------------------------------------
WIDTHS = (1024, 1400, 1920)
# The committed screenshots under docs/ are refreshed with AGENTGUARD_UPDATE_SCREENSHOTS=1; otherwise
# they go to test-output/ so a test run leaves the tree unchanged.
DOCS = ROOT / "docs" if os.environ.get("AGENTGUARD_UPDATE_SCREENSHOTS") == "1" else OUTPUT

# Elements past their panel's edges that no ancestor inside the panel clips (a clipped cell is fine:
# it shows an ellipsis and its full text on hover).
LAYOUT = r"""(() => {
  const clippedInside = (el, panel) => {
    for (let a = el.parentElement; a && a !== panel; a = a.parentElement)
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    return false;
  };
  const past = [];
  document.querySelectorAll('.panel').forEach(panel => {
    const box = panel.getBoundingClientRect();
    panel.querySelectorAll('*').forEach(el => {
      const r = el.getBoundingClientRect();
      if (r.width && (r.right > box.right + 1 || r.left < box.left - 1) && !clippedInside(el, panel))
        past.push(panel.dataset.panel + ' ' + el.tagName + '.' + (el.className.baseVal ?? el.className));
    });
  });
  const cutCells = [...document.querySelectorAll('table.t td')]
    .filter(td => td.scrollWidth > td.clientWidth + 1 && !(td.title || '').trim())
    .map(td => td.textContent);
  const cutNames = [...document.querySelectorAll('#timeline .tl-name .nm')]
    .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.textContent);
  const clippedBars = [...document.querySelectorAll('#timeline .tl-gantt')].filter(g => {
    const t = g.getBoundingClientRect(), b = g.firstElementChild.getBoundingClientRect();
    return b.width < 1 || b.left < t.left - 0.5 || b.right > t.right + 0.5;
  }).length;
  const innerScroll = [...document.querySelectorAll('.panel, .panel-body, .timeline')]
    .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.className);
  return {
    sideways: document.documentElement.scrollWidth - window.innerWidth,
    past: past.slice(0, 10), cutCells: cutCells.slice(0, 10), cutNames, clippedBars, innerScroll,
  };
})()"""

# Per chart: x-axis labels that overlap, and the decimals of its y-axis labels.
CHARTS = r"""(() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const xs = [...svg.querySelectorAll('text.x-label')].map(t => t.getBBox()).sort((a, b) => a.x - b.x);
  let overlaps = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i].x < xs[i - 1].x + xs[i - 1].width) overlaps++;
  const ys = [...svg.querySelectorAll('text.y-label')].map(t => t.textContent);
  const decimals = new Set(ys.filter(y => /\d/.test(y) && y !== '$0')
    .map(y => (y.split('.')[1] || '').replace(/\D/g, '').length));
  const panel = svg.closest('[data-panel]').dataset.panel;
  return { panel, xLabels: xs.length, overlaps, ys, decimals: decimals.size };
}))()"""

TOOL_COLORS = (
    "Object.fromEntries([...document.querySelectorAll('[data-panel=tools] .legend span')]"
    ".map(s => [s.textContent, s.querySelector('i').style.background]))"
)


def set_width(cdp: CDP, width: int) -> None:
    cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=False)
    time.sleep(0.4)  # the page redraws its charts 150 ms after a resize


def open_first_run(cdp: CDP, *, every_panel: bool = True) -> None:
    if every_panel:
        assert_panels_with_data(cdp)
    else:
        cdp.wait_for(
            "[...document.querySelectorAll('[data-panel]')].every(p => p.dataset.state)",
            what="every panel to render",
        )
    cdp.wait_for("document.querySelector('#timeline .tl-head') !== null", what="the first run's timeline")


@pytest.fixture(scope="module")
def many_kinds_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with long names and many tool kinds: what pushes cells and labels past their room."""
    tmp = tmp_path_factory.mktemp("layout")
    store = tmp / "agentguard.db"
    script = tmp / "record.py"
    script.write_text(LONG_RUNS)
    done = subprocess.run([sys.executable, str(script), str(store)], env=scenario_env(), capture_output=True,
                          text=True, timeout=240, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return store


LONG_RUNS = r"""
import sys
import agentguard as ag
from agentguard import rules

telemetry = ag.configure(service_name="layout", store_path=sys.argv[1], span_processor="simple")
policy = ag.Policy(scope=ag.Scope(root=".", write=["src/**"], read=["**"]),
                   rules=[rules.destructive_commands()], name="layout")
kinds = ["file_read", "file_write", "shell", "network", "other", "custom_kind_with_a_long_name"]
tools = {k: ag.tool(lambda **kw: "ok", kind=k if k != "custom_kind_with_a_long_name" else "other",
                    name="a_tool_with_a_rather_long_name_for_" + k) for k in kinds}

@ag.guarded(name="an-agent-with-a-very-long-name-that-does-not-fit-anywhere-" * 2,
            task="a task description that is much longer than any table cell could ever show " * 4,
            policy=policy)
def agent(i):
    for k, t in tools.items():
        try:
            if k == "shell":
                t(command="git push --force origin main && rm -rf /tmp/" + "x" * 200)
            elif k == "file_write":
                t(path="tests/" + "deeply/nested/" * 12 + "file.py", content="x")
            elif k == "network":
                t(url="https://example.invalid/" + "p" * 300)
            else:
                t(path="README.md")
        except ag.Denied:
            pass

for i in range(6):
    agent(i)
telemetry.shutdown()
"""


@pytest.mark.parametrize("width", WIDTHS)
def test_no_sideways_scroll_and_no_cell_past_its_panel(
    scenario_store: Path, many_kinds_store: Path, browser: Callable[[str], CDP], width: int
) -> None:
    for store in (scenario_store, many_kinds_store):
        source = StoreSource(store)
        source.refresh()
        with DashboardServer(DashboardApi(source)) as server:
            cdp = browser(server.url)
            set_width(cdp, width)
            open_first_run(cdp, every_panel=store == scenario_store)
            layout = cdp.evaluate(LAYOUT)
            assert layout["sideways"] <= 0, layout
            assert layout["past"] == [], layout
            assert layout["cutCells"] == [], "cut cells without their full text on hover"
            assert layout["innerScroll"] == [], layout
            assert layout["cutNames"] == [] and layout["clippedBars"] == 0, layout
            assert cdp.errors() == []
        source.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_chart_labels_never_collide_and_share_one_precision(
    scenario_store: Path, browser: Callable[[str], CDP], width: int
) -> None:
    source = StoreSource(scenario_store)
    source.refresh()
    with DashboardServer(DashboardApi(source)) as server:
        cdp = browser(server.url)
        set_width(cdp, width)
        open_first_run(cdp)
        charts = cdp.evaluate(CHARTS)
        assert len(charts) >= 5
        for chart in charts:
            assert chart["xLabels"] >= 1 and chart["overlaps"] == 0, chart
            assert chart["decimals"] <= 1, chart  # "$0.0005", "$0.0010": one number of decimals per axis
    source.close()


def test_a_lone_bucket_is_drawn_as_a_point(scenario_store: Path, browser: Callable[[str], CDP]) -> None:
    """The refusal rate of the demo: one bucket of the refusing agent, apart from the others."""
    source = StoreSource(scenario_store)
    source.refresh()
    api = DashboardApi(source)
    rate = api.panel("refusals")["rate"]
    lone = [
        i
        for i, v in enumerate(rate)
        if v is not None and (i == 0 or rate[i - 1] is None) and (i == len(rate) - 1 or rate[i + 1] is None)
    ]
    with DashboardServer(api) as server:
        cdp = browser(server.url)
        open_first_run(cdp)
        points = cdp.evaluate("document.querySelectorAll('[data-panel=refusals] svg circle.lone').length")
        assert points == len(lone)
        drawn = cdp.evaluate("document.querySelectorAll('[data-panel=refusals] svg circle.point').length")
        assert drawn == sum(v is not None for v in rate)  # 0% buckets too
        # lines only over stretches of three or more buckets: never a 0% -> 100% spike between two
        stretches, run = [], 0
        for v in [*rate, None]:
            if v is None:
                stretches.append(run)
                run = 0
            else:
                run += 1
        starts = cdp.evaluate(
            "[...document.querySelectorAll('[data-panel=refusals] svg path')]"
            ".reduce((n, p) => n + (p.getAttribute('d').match(/M/g) || []).length, 0)"
        )
        assert starts == sum(1 for n in stretches if n >= 3), (rate, starts)
    source.close()


def test_tool_kind_colours_are_fixed_across_loads_and_stores(
    scenario_store: Path, many_kinds_store: Path, browser: Callable[[str], CDP]
) -> None:
    seen: list[dict[str, str]] = []
    for store in (scenario_store, many_kinds_store, scenario_store):
        source = StoreSource(store)
        source.refresh()
        with DashboardServer(DashboardApi(source)) as server:
            cdp = browser(server.url)
            open_first_run(cdp, every_panel=store == scenario_store)
            seen.append(cdp.evaluate(TOOL_COLORS))
        source.close()
    assert seen[0] == seen[2]
    shared = set(seen[0]) & set(seen[1])
    assert shared and all(seen[0][k] == seen[1][k] for k in shared), seen  # rank does not move colours


def test_dark_scrollbars(scenario_store: Path, browser: Callable[[str], CDP]) -> None:
    source = StoreSource(scenario_store)
    source.refresh()
    with DashboardServer(DashboardApi(source)) as server:
        cdp = browser(server.url)
        assert_panels_with_data(cdp)
        scheme = cdp.evaluate("getComputedStyle(document.documentElement).colorScheme")
        thumb = cdp.evaluate("getComputedStyle(document.documentElement).scrollbarColor")
        assert scheme == "dark" and thumb not in ("", "auto"), (scheme, thumb)
    source.close()


def test_run_badge_reflects_signals_and_denials(scenario_store: Path, browser: Callable[[str], CDP]) -> None:
    source = StoreSource(scenario_store)
    source.refresh()
    with DashboardServer(DashboardApi(source)) as server:
        cdp = browser(server.url)
        open_first_run(cdp)  # the most severe run: the fixer, with high signals and two denials
        verdict = cdp.evaluate("document.querySelector('#timeline [data-verdict]').dataset.verdict")
        summary = cdp.evaluate("document.querySelector('#timeline .tl-summary').textContent")
        assert verdict == "high", verdict
        assert "high" in summary and "2 denials" in summary, summary
        # wording: no "1 runs", "1 refusals", "1 calls" anywhere on the page
        text = cdp.evaluate("document.body.innerText")
        slips = re.findall(
            r"(?<![\d.,])1 (?:runs|refusals|calls|signals|denials|attributes|LLM calls|tool calls)\b", text
        )
        assert slips == [], slips
    source.close()


def test_report_is_a_static_document(
    scenario_store: Path, browser: Callable[[str], CDP], tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "agentguard", "report", "--store", str(scenario_store), "-o", str(report)],
        env=scenario_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    cdp = browser(report.resolve().as_uri())
    open_first_run(cdp)
    state = cdp.evaluate(
        "({range: getComputedStyle(document.getElementById('range')).display,"
        " header: getComputedStyle(document.querySelector('.topbar')).position,"
        " timeline: getComputedStyle(document.getElementById('timeline')).overflowY,"
        " summary: !!document.querySelector('#timeline .tl-summary')})"
    )
    assert state == {"range": "none", "header": "static", "timeline": "visible", "summary": True}, state
    assert cdp.errors() == []


def test_screenshots_at_three_widths(
    scenario_store: Path, browser: Callable[[str], CDP], tmp_path: Path
) -> None:
    """The screenshots the README links (docs/): the dashboard at each width, and the report."""
    source = StoreSource(scenario_store)
    source.refresh()
    with DashboardServer(DashboardApi(source)) as server:
        cdp = browser(server.url)
        for width in WIDTHS:
            set_width(cdp, width)
            open_first_run(cdp)
            cdp.screenshot(DOCS / f"dashboard-{width}.png", width=width)
    source.close()
    report = tmp_path / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "agentguard", "report", "--store", str(scenario_store), "-o", str(report)],
        env=scenario_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    cdp = browser(report.resolve().as_uri())
    set_width(cdp, 1400)
    open_first_run(cdp)
    cdp.screenshot(DOCS / "report-1400.png", width=1400)
    assert all((DOCS / f"dashboard-{w}.png").stat().st_size > 10_000 for w in WIDTHS)


# --- the monitor's findings, triaged by clicking ---------------------------------------------------
def _monitor_journal(state: Path) -> None:
    """A monitor journal with one reviewed session whose tool span carries two recorded signals."""
    from agentguard.fleet import Monitor, MonitorConfig
    from agentguard.traces import Span, SpanEvent

    ns = 1_000_000_000
    root = Span(
        trace_id="c" * 32,
        span_id="1" * 16,
        name="invoke_agent coder",
        start=10 * ns,
        end=20 * ns,
        attributes={"gen_ai.conversation.id": "conv-browser", "gen_ai.agent.name": "coder"},
    )
    tool = Span(
        trace_id="c" * 32,
        span_id="2" * 16,
        parent_id="1" * 16,
        name="execute_tool run",
        start=11 * ns,
        end=12 * ns,
        attributes={"gen_ai.tool.name": "run", "agentguard.tool.kind": "shell"},
    )
    for code, severity in (("circumvention.decode_exec", "critical"), ("loop.repeated_call", "low")):
        tool.events.append(
            SpanEvent(
                "agentguard.signal",
                11 * ns,
                {
                    "agentguard.signal.code": code,
                    "agentguard.signal.severity": severity,
                    "agentguard.signal.message": f"{code} <b>seen</b>",
                    "agentguard.signal.evidence.span_ids": ["2" * 16],
                },
            )
        )
    monitor = Monitor(MonitorConfig(state_dir=state, port=None, settle_s=0.0))
    try:
        monitor.journal.append([tool, root], now=time.time() - 1)
        assert monitor.review_due() == 1
    finally:
        monitor.stop()  # fmt: skip


def test_a_reviewer_sets_a_findings_state_by_clicking(tmp_path: Path, browser: Callable[[str], CDP]) -> None:
    from agentguard.dashboard import MonitorView
    from agentguard.fleet import Journal

    state = tmp_path / "monitor"
    _monitor_journal(state)
    view = MonitorView(state)
    source = StoreSource(tmp_path / "missing" / "agentguard.db")
    try:
        with DashboardServer(DashboardApi(source, monitor=view), token="browser-test-token") as server:
            cdp = browser(server.url)
            cdp.wait_for(
                "document.querySelector('[data-monitor-panel=findings]').dataset.state === 'data'",
                what="the monitor findings",
            )
            rows = cdp.evaluate(
                "[...document.querySelectorAll('#findings-table tr[data-finding]')].map(tr =>"
                " [Number(tr.getAttribute('data-finding')), tr.textContent])"
            )
            assert len(rows) == 2 and "circumvention.decode_exec" in rows[0][1]
            assert "<b>seen</b>" in rows[0][1]  # agent text stays text
            critical = rows[0][0]
            cdp.click(f"button.tbtn[data-finding='{critical}'][data-state='confirmed']")
            cdp.wait_for(
                f"document.querySelector(\".tstate[data-finding='{critical}']\").dataset.state"
                " === 'confirmed'",
                what="the confirmed state on the page",
            )
            journal = Journal(state / "monitor.db")
            try:
                [found] = journal.query_findings(finding_id=critical)
                assert found.state == "confirmed"
                assert [h["by"] for h in journal.triage_history(critical)] == ["dashboard"]
                assert {f.state for f in journal.query_findings() if f.id != critical} == {"new"}
            finally:
                journal.close()
            cdp.screenshot(OUTPUT / "dashboard-monitor-findings.png")
            assert cdp.errors() == []
    finally:
        source.close()
        view.close()


def _fleet_journal(state: Path) -> None:
    """Two agents over eight days; on the last day one agent's tests all pass after test-only edits."""
    import random

    from agentguard.fleet import Monitor, MonitorConfig
    from agentguard.traces import Span

    ns, day_s = 1_000_000_000, 86400
    t0 = (int(time.time()) // day_s - 8) * day_s
    rng = random.Random(11)
    spans: list[Span] = []
    plans = [
        (agent, repo, day, rng.random() < 0.3, "src/app.py")
        for day in range(7)
        for agent, repo in (("coder", "parser"), ("fixer", "web"))
        for _ in range(6)
    ]
    plans += [("coder", "parser", 7, True, "tests/test_app.py") for _ in range(8)]
    for n, (agent, repo, day, passed, path) in enumerate(plans):
        trace, t = f"{n + 1:032x}", (t0 + day * day_s + 3600 + n) * ns
        resource = {"vcs.repository.name": repo}
        spans.append(
            Span(
                trace_id=trace,
                span_id=f"{1:016x}",
                name=f"invoke_agent {agent}",
                start=t,
                end=t + 9 * ns,
                attributes={
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": agent,
                    "gen_ai.conversation.id": f"fleet-{n}",
                },
                resource=resource,
            )
        )
        for k, (tool, kind, args, result) in enumerate(
            (
                ("write_file", "file_write", {"path": path, "content": "x = 1\n"}, "ok"),
                ("run", "shell", {"command": "pytest -q"}, "5 passed" if passed else "1 failed, 4 passed"),
            ),
            start=2,
        ):
            spans.append(
                Span(
                    trace_id=trace,
                    span_id=f"{k:016x}",
                    parent_id=f"{1:016x}",
                    name=f"execute_tool {tool}",
                    start=t + k * ns,
                    end=t + k * ns + 1,
                    resource=resource,
                    attributes={
                        "gen_ai.operation.name": "execute_tool",
                        "gen_ai.tool.name": tool,
                        "agentguard.tool.kind": kind,
                        "gen_ai.tool.call.arguments": json.dumps(args),
                        "gen_ai.tool.call.result": result,
                    },
                )
            )
    monitor = Monitor(MonitorConfig(state_dir=state, port=None, settle_s=0.0))
    try:
        monitor.journal.append(spans, now=time.time() - 1)
        assert monitor.review_due() == len(plans)
    finally:
        monitor.stop()  # fmt: skip


def test_the_fleet_trends_panel_draws_each_series_and_marks_the_spike(
    tmp_path: Path, browser: Callable[[str], CDP]
) -> None:
    from agentguard.dashboard import MonitorView

    state = tmp_path / "monitor"
    _fleet_journal(state)
    view = MonitorView(state)
    source = StoreSource(tmp_path / "missing" / "agentguard.db")
    try:
        with DashboardServer(DashboardApi(source, monitor=view), token="browser-test-token") as server:
            cdp = browser(server.url)
            cdp.wait_for(
                "document.querySelector('[data-monitor-panel=trends]').dataset.state === 'data'",
                what="the fleet trends",
            )
            series = cdp.evaluate(
                "[...document.querySelectorAll('#trends-body .trend')].map(t => [t.dataset.agent,"
                " t.dataset.repo, t.querySelectorAll('svg.chart').length,"
                " t.querySelectorAll('.spike').length])"
            )
            assert series == [["coder", "parser", 3, 1], ["fixer", "web", 3, 0]]
            # the spike is also a fleet-level finding in the findings panel, ready for triage
            cdp.wait_for(
                "[...document.querySelectorAll('#findings-table .fs')].some(f =>"
                " f.dataset.session.startsWith('fleet:coder@parser:'))",
                what="the spike among the findings",
            )
            cdp.evaluate(
                "(() => { const s = document.getElementById('trends-bucket'); s.value = '604800';"
                " s.dispatchEvent(new Event('change')); })()"
            )
            cdp.wait_for(
                "document.getElementById('trends-info').textContent.indexOf('buckets of 7 days') >= 0",
                what="weekly buckets",
            )
            cdp.screenshot(OUTPUT / "dashboard-fleet-trends.png")
            assert cdp.errors() == []
    finally:
        source.close()
        view.close()
