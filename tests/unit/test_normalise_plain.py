"""Plain command lists skip the parser: both routes must give the same analysis, call for call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentguard.normalise import _plain, _shell
from agentguard.normalise._words import Word

PROGRAMS = [
    *("cd", "git", "pytest", "rm", "bash", "sh", "echo", "curl", "python3", "env", "sudo", "timeout"),
    *("xargs", "find", "tar", "dd", "cp", "mv", "cat", "pip", "npm", "uv", "eval", "source", "."),
    *("export", "if", "done", "2", "x=1", "codex", "sed", "awk", "node", "ssh", "nc", "wget", ":"),
]
ARGS = [
    *("-A", "-f", "--force", "-c", "-m", "-rf", "src", "../x", "/etc/passwd", "a=b", "+main", ":x"),
    *("push", "commit", "install", "run", "-exec", "of=/dev/sda", "https://x.org/a", "git@h:r.git"),
    *('"fix parser 12"', "'rm -rf ~'", "\"a\"b'c'", '""', "''", "pip", "-e", "in", "do", "%1", "@x"),
    *('"$HOME"', "~", "*.py", "{a,b}", "a\\ b", "$(id)", "`id`", "#c", "!", "a&b", ">x", "<y"),
]
OPERATORS = ["&&", "||", ";", "|", "&", "\n"]
TOKEN_CHARS = "abzAZ019_./:=,+@%-\"' ;$"
SPACES = ["", " ", "  "]


@st.composite
def commands(draw: st.DrawFn) -> str:
    parts: list[str] = []
    for i in range(draw(st.integers(1, 5))):
        if i:
            parts.append(draw(st.sampled_from(SPACES)) + draw(st.sampled_from(OPERATORS)))
        word = st.sampled_from(ARGS) | st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=6)
        first = draw(st.sampled_from(PROGRAMS) | st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=4))
        words = [first, *draw(st.lists(word, max_size=4))]
        parts.append(draw(st.sampled_from(SPACES)) + " ".join(words))
    return "".join(parts) + draw(st.sampled_from(SPACES))


def _stdin(stdin: Any) -> tuple[Any, ...] | None:
    """A comparable summary (tree nodes of two parses are never equal)."""
    if stdin is None:
        return None
    pipe = stdin.pipe
    stages = None if pipe is None else (tuple((n.type, n.start_byte, n.end_byte) for n in pipe[0]), pipe[1])
    return (stdin.text, stdin.reason, stdin.file, stdin.source, stages)


class _Recorder:
    """Every call of the walker's ``run`` with its arguments and nesting, for both routes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[Any, ...]] = []
        real = _shell._Walker.run

        def run(
            walker: _shell._Walker,
            argv: list[Word],
            env: Any,
            depth: int,
            gate: str | None,
            stdin: Any,
            *rest: Any,
        ) -> str | None:
            self.calls.append((walker.nesting, tuple(argv), env.cwds, depth, gate, _stdin(stdin), rest))
            return real(walker, argv, env, depth, gate, stdin, *rest)

        monkeypatch.setattr(_shell._Walker, "run", run)

    def analyse(self, command: str, *, fast: bool) -> tuple[_shell.Analysis, list[tuple[Any, ...]]]:
        self.calls = []
        return _shell.analyse_uncached(command, "/repo", "/home/me", fast=fast), self.calls


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Recorder]:
    yield _Recorder(monkeypatch)


@pytest.mark.parametrize(
    "command",
    [
        'cd src && git add -A && git commit -m "fix parser 1234" && pytest -q',
        "cd a || cd b; ls && rm -rf x; pwd",
        "a && b || c && d; e || f",
        "git -C . push --force origin +main",
        "bash -c 'rm -rf ~' && sh -c \"cd x && git push -f\"",
        "echo 'a b'\"c\"d e=f",
        "timeout 5 env X=1 sudo rm -rf /",
        "python3 -c 'import os' ; node -e 'x'",
    ],
)
def test_plain_lists_take_the_fast_route_and_agree(recorder: _Recorder, command: str) -> None:
    assert _plain.split(command) is not None
    slow, slow_calls = recorder.analyse(command, fast=False)
    fast, fast_calls = recorder.analyse(command, fast=True)
    assert fast == slow
    assert fast_calls == slow_calls


@pytest.mark.parametrize(
    "command",
    [
        "x=1 git push",
        "export A=1",
        "echo $HOME",
        'echo "$(id)"',
        "cat ~/.ssh/id_rsa",
        "rm *.py",
        "ls | sh",
        "sleep 1 &",
        "echo x > f",
        "if true; then ls; fi",
        "echo a # c",
        "a &&",
        "; a",
        "echo 'a\nb'",
        "echo é",
        "a\\ b",
        'echo " "',  # the grammar drops blank double-quoted text
        "- of=x y",  # ... and a lone '-' in command position
        "x@y z",
    ],
)
def test_anything_else_takes_the_parser(command: str) -> None:
    assert _plain.split(command) is None


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=commands())
def test_both_routes_agree_on_generated_commands(recorder: _Recorder, command: str) -> None:
    slow, slow_calls = recorder.analyse(command, fast=False)
    fast, fast_calls = recorder.analyse(command, fast=True)
    assert fast == slow, command
    assert fast_calls == slow_calls, command
    if _plain.split(command) is not None:
        assert not slow.parse_error, command  # the accepted language always parses cleanly


def test_long_lists_and_deep_nesting_take_the_parser(recorder: _Recorder) -> None:
    many = " && ".join(["true"] * (_plain.MAX_COMMANDS + 1))
    assert _plain.split(many) is None
    nested = "bash -c " + "'" + "x && " * 3 + "y'"
    slow, _ = recorder.analyse(nested, fast=False)
    fast, _ = recorder.analyse(nested, fast=True)
    assert fast == slow
