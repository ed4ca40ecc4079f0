"""The literal prefilters and one-entry caches in front of detector regexes never change an answer."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentguard.detect import _exfiltration, _loop, _testruns
from agentguard.detect._engine import contains_any

# Pieces of commands and outputs: every literal the prefilters look for, the words around them in
# real traces, and the separators the regexes care about.
_PIECES = [
    *_testruns._RUNNER_LITERALS, *_testruns._FAIL_LITERALS, *_loop._MUTATING_LITERALS,
    *_exfiltration._EGRESS_LITERALS, "https", "sftp", "ncat", "rsync", "user@host:", "a@b", "x:", "ghost",
    "pytest", "py.test", "python3.11", "-m", "unittest", "go", "cargo", "nextest", "npm", "pnpm", "yarn",
    "bun", "run", "make", "mvn", "gradlew", "dotnet", "bazel", "deno", "vitest", "ctest", "jester",
    "failed", "errors", "FAILED", "FAILURES", "Tests:", "Test", "AssertionError", "test result:",
    "--- FAIL:", "npm ERR!", "ERRORS", "collect", "exit code", "exit status", "passed", "OK", "ok",
    "uninstall", "sed -i", "git commit", "git status", "git", "commit", "rm", "format", "perm", "3", "12",
    " ", "  ", "\n", ";", "&", "|", "(", ")", "/", ".", "-", ":", "_", "x", "é",
]  # fmt: skip
texts = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_is_test_command_is_the_runner_regex(command: str) -> None:
    assert _testruns.is_test_command(command) == bool(_testruns._RUNNER.search(command))


def _outcome_by_regex(output: str) -> str | None:
    text = output[-8192:]
    if _testruns._FAIL.search(text):
        return "fail"
    if _testruns._PASS.search(text):
        return "pass"
    return None


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_outcome_is_the_regexes(output: str) -> None:
    assert _testruns.outcome(output, None) == _outcome_by_regex(output)
    assert _testruns.outcome(output, None) == _outcome_by_regex(output)  # the cached answer
    assert _testruns.outcome(output, "boom") == "fail"


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_mutating_is_the_regex(command: str) -> None:
    assert _loop._mutating(command) == bool(_loop._MUTATING.search(command))


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_egress_literals_cover_the_egress_regex(command: str) -> None:
    if _exfiltration._EGRESS_HINT.search(command):
        assert contains_any(command, _exfiltration._EGRESS_LITERALS)


@pytest.mark.parametrize(
    ("command", "runs_tests"),
    [
        ("python -m pytest -q tests/test_x.py", True),
        ("cd app && npm run test", True),
        ("make check", True),
        ("git status --short", False),
        ("cat pytest.ini", False),
        ("echo done", False),
    ],
)
def test_one_entry_cache_answers_per_command(command: str, runs_tests: bool) -> None:
    other = "ls -la"
    assert _testruns.is_test_command(command) is runs_tests
    assert _testruns.is_test_command(other) is False
    assert _testruns.is_test_command(command) is runs_tests


def test_outcome_cache_is_per_output() -> None:
    failing = "".join(["1 failed, 3 passed"])  # a distinct object from any other equal string
    passing = "4 passed"
    assert _testruns.outcome(failing, None) == "fail"
    assert _testruns.outcome(passing, None) == "pass"
    assert _testruns.outcome(failing, None) == "fail"
    assert _testruns.outcome("", None) is None


@pytest.mark.parametrize(
    ("text", "literals", "found"),
    [("cat .env", (".env", "id_"), True), ("ls", (".env",), False), ("", ("x",), False), ("x", (), False)],
)
def test_contains_any(text: str, literals: tuple[str, ...], found: bool) -> None:
    assert contains_any(text, literals) is found
    assert found == bool(literals and re.search("|".join(map(re.escape, literals)), text))
