"""agentguard scan: table and JSON output, --fail-on exit codes, malformed lines, workers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agentguard.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from test_scan import line, session


def write_session(tmp_path: Path, commands: list[str], name: str = "t.jsonl", trace: str = "d" * 32) -> Path:
    path = tmp_path / name
    with path.open("a") as f:
        f.write(line(*session(trace, None, commands)) + "\n")
    return path


def test_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_session(tmp_path, ["git commit --no-verify -m x"])
    assert main(["scan", "--json", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    (sess,) = out["sessions"]
    assert sess["id"] == "d" * 32
    (sig,) = sess["signals"]
    assert set(sig) >= {"code", "category", "severity", "confidence", "message", "evidence"}
    assert (sig["code"], sig["category"], sig["severity"]) == (
        "circumvention.bypass_flag",
        "circumvention",
        "high",
    )
    assert sig["evidence"]["span_ids"] == [f"{1:016x}"]
    assert "--no-verify" in sig["evidence"]["excerpt"]


@pytest.mark.parametrize(
    ("fail_on", "status"),
    [(None, 0), ("info", 1), ("medium", 1), ("high", 1), ("critical", 0)],
)
def test_fail_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fail_on: str | None, status: int
) -> None:
    path = write_session(tmp_path, ["git commit --no-verify -m x"])
    args = ["scan", str(path)] + (["--fail-on", fail_on] if fail_on else [])
    assert main(args) == status


def test_clean_traces_pass_any_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_session(tmp_path, ["ls", "pytest -q"])
    assert main(["scan", "--fail-on", "info", str(path)]) == 0
    assert "1 session, 3 spans, 0 signals" in capsys.readouterr().out


def test_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_session(tmp_path, ["echo cm0gLXJmIC8= | base64 -d | sh", "git commit --no-verify"])
    main(["scan", str(path)])
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["SESSION", "SOURCE", "SPANS", "SIGNALS", "WORST"]
    assert out[1].split()[-2:] == ["2", "critical"]
    assert out[2].split()[:2] == ["critical", "circumvention.decode_exec"]
    assert out[3].split()[:2] == ["high", "circumvention.bypass_flag"]
    assert out[-1] == "1 session, 3 spans, 2 signals"


def test_malformed_lines_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_session(tmp_path, ["git commit --no-verify"])
    with path.open("a") as f:
        f.write("{oops\n")
    assert main(["scan", "--fail-on", "high", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2: malformed JSON" in err


def test_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(3):
        write_session(tmp_path, ["git commit --no-verify"], name=f"t{i}.jsonl", trace=f"{i:032x}")
    assert main(["scan", "--json", "--workers", "2", str(tmp_path)]) == 0
    assert len(json.loads(capsys.readouterr().out)["sessions"]) == 3


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["scan", "nope.jsonl"], 1, "nothing could be read"),
        (["scan", "--workers", "0", "x"], 64, ""),
        (["scan", "--fail-on", "severe", "x"], 64, ""),
        (["scan", "--judge-base-url", "http://127.0.0.1:1/v1", "x"], 64, "needs --judge"),
        (["scan", "--ray-address", "auto", "x"], 64, "needs --engine ray"),
        (["scan", "--engine", "ray", "--workers", "2", "x"], 64, "--workers is for --engine local"),
        (["scan", "--engine", "spark", "x"], 64, "invalid choice"),
    ],
)
def test_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], status: int, message: str
) -> None:
    assert main(args) == status
    assert message in capsys.readouterr().err


def test_the_ray_engine_without_ray_names_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_session(tmp_path, ["ls"])
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` does where Ray is not installed
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # what the command sets, undone after
    assert main(["scan", "--engine", "ray", str(path)]) == 1
    err = capsys.readouterr().err
    assert "pip install 'agentguard[ray]'" in err
    assert "Traceback" not in err


def test_python_m(tmp_path: Path) -> None:
    import subprocess

    path = write_session(tmp_path, ["git push --force origin main"])
    proc = subprocess.run([sys.executable, "-m", "agentguard", "scan", "--fail-on", "high", str(path)],
                          check=False, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "destructive.command" in proc.stdout
