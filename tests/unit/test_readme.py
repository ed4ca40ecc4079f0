"""Every code block of README.md runs as written, in order, in one directory, as a new user would.

Python blocks run in a fresh interpreter (``configure()`` sets process-wide state) with
``OPENAI_BASE_URL`` pointing at a scripted OpenAI-compatible server on loopback. Shell blocks run
their ``agentguard`` commands (also with the server in place of any ``http://127.0.0.1:PORT/v1``) and
check that the ``make`` targets they name exist (and ``ray`` commands, which a cluster's own machines
run, that their subcommand and options exist). A YAML block runs its ``run:`` steps. A block in any
other language, or a shell command this test does not know how to run, fails the test: rewrite it so
it runs, or mark it ``text`` when it is not code.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from agentguard.demo import ScriptedServer, Step

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
LOOPBACK_V1 = re.compile(r"http://127\.0\.0\.1:\d+/v1")
POSTGRES_URL = re.compile(r"postgres(?:ql)?://\S+")
NOT_CODE = {"text"}


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int

    @property
    def id(self) -> str:
        return f"README.md:{self.line}:{self.language}"


def blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [
        Block(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1)
        for m in FENCE.finditer(text)
        if m.group(1) not in NOT_CODE
    ]


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w-]*):(?!=)", makefile, re.MULTILINE)}


SCRIPT = (
    Step(text="Writing the note.", tool_calls=[("write_file", {"path": "notes.txt", "content": "hello\n"})]),
    Step(tool_calls=[("run", {"command": "cat notes.txt"})]),
    Step(text="Done: notes.txt says hello."),
)


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(SCRIPT) as s:
        yield s


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's directory: an OTLP JSON lines file for the scan examples, as the Collector writes."""
    work = tmp_path_factory.mktemp("readme")
    sys.path.insert(0, str(Path(__file__).parent))
    from test_scan import line, session

    traces = line(*session("e" * 32, None, ["git commit --no-verify -m wip", "git push --force"]))
    (work / "traces.jsonl").write_text(traces + "\n")
    (work / "artifacts").mkdir()
    (work / "artifacts" / "agent-traces.jsonl").write_text(traces + "\n")
    return work


def env_for(server: ScriptedServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_", "AGENTGUARD_"))}
    return env | {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "local", "NO_COLOR": "1"}


def python(argv: list[str], workdir: Path, server: ScriptedServer) -> subprocess.CompletedProcess[str]:
    """``python ARGV`` in the user's directory, no stdin, the scripted server as the OpenAI endpoint."""
    return subprocess.run(
        [sys.executable, *argv],
        cwd=workdir,
        env=env_for(server),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_command(
    words: list[str], workdir: Path, server: ScriptedServer, postgres: str | None = None
) -> subprocess.CompletedProcess[str]:
    words = [LOOPBACK_V1.sub(server.base_url.rstrip("/"), w) for w in words]
    if postgres is not None:  # the README's database URL, as the test session's real PostgreSQL
        words = [POSTGRES_URL.sub(postgres, w) for w in words]
    return python(["-m", "agentguard", *words[1:]], workdir, server)


def shell_lines(code: str) -> list[list[str]]:
    out = []
    for raw in code.splitlines():
        words = shlex.split(raw, comments=True)
        if words:
            out.append(words)
    return out


def check_command(
    words: list[str], workdir: Path, server: ScriptedServer, where: str, postgres: str | None = None
) -> None:
    if words[0] == "make":
        missing = set(words[1:]) - make_targets()
        assert not missing, f"{where}: make has no target {sorted(missing)}"
        return
    if words[0] == "ray":  # a cluster's own machines run these: check the subcommand exists
        ray = Path(sys.executable).with_name("ray")
        sub = [w for w in words[1:3] if not w.startswith("-")][: 2 if words[1] == "job" else 1]
        done = subprocess.run(
            [str(ray), *sub, "--help"], capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, f"{where}: ray has no command {sub}\n{done.stderr[-2000:]}"
        own = words[1 : words.index("--")] if "--" in words else words[1:]  # after --: the job's command
        options = {w.split("=")[0] for w in own if w.startswith("--")}
        unknown = {o for o in options if o not in done.stdout}
        assert not unknown, f"{where}: ray {' '.join(sub)} has no option {sorted(unknown)}"
        return
    assert words[0] in ("agentguard", ".venv/bin/agentguard"), f"{where}: do not know how to run {words}"
    done = run_command(words, workdir, server, postgres)
    # 0, or 1 for a --fail-on finding; never a usage error (64) or a crash
    assert done.returncode in (0, 1), f"{where}: {shlex.join(words)} exited {done.returncode}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    if "--fail-on" not in words:
        assert done.returncode == 0, f"{where}: {shlex.join(words)}\n{done.stderr}"


ALL = blocks()


def test_the_readme_has_the_blocks_this_test_runs() -> None:
    languages = {b.language for b in ALL}
    assert languages <= {"python", "bash", "yaml"}, languages
    assert sum(b.language == "python" for b in ALL) >= 3


@pytest.mark.parametrize("block", ALL, ids=[b.id for b in ALL])
def test_block_runs(
    block: Block, workdir: Path, server: ScriptedServer, request: pytest.FixtureRequest
) -> None:
    # a block naming a PostgreSQL URL runs against the session's real PostgreSQL (tests/conftest.py)
    postgres = request.getfixturevalue("postgres_url") if POSTGRES_URL.search(block.code) else None
    if block.language == "python":
        script = workdir / f"readme_{block.line}.py"
        script.write_text(block.code, encoding="utf-8")
        done = python([str(script)], workdir, server)
        assert done.returncode == 0, f"{block.id}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    elif block.language == "bash":
        for words in shell_lines(block.code):
            check_command(words, workdir, server, block.id, postgres)
    elif block.language == "yaml":
        steps = yaml.safe_load(block.code)
        commands = [s["run"] for s in steps if isinstance(s, dict) and "run" in s]
        assert commands, f"{block.id}: no run: step"
        for command in commands:
            for words in shell_lines(command):
                check_command(words, workdir, server, block.id)
    else:
        pytest.fail(f"{block.id}: a {block.language!r} block; mark it text if it is not code")


def test_the_quick_start_agent_answers_and_records_its_run(workdir: Path, server: ScriptedServer) -> None:
    first = next(b for b in ALL if b.language == "python")
    script = workdir / "readme_quick_start.py"
    script.write_text(first.code, encoding="utf-8")
    done = python([str(script)], workdir, server)
    assert done.returncode == 0, done.stderr
    assert "notes.txt says hello" in done.stdout
    assert (workdir / "notes.txt").read_text() == "hello\n"
    runs = python(["-m", "agentguard", "runs", "--json"], workdir, server)
    assert runs.returncode == 0, runs.stderr
    assert '"task": "fix the failing parser test"' in runs.stdout
