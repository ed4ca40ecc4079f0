"""Recognising test runs in shell commands and reading their outcome from the output."""

from __future__ import annotations

import re
from typing import Literal

from .._lazyre import lazy_compile

Outcome = Literal["pass", "fail"]

_RUNNER = lazy_compile(
    r"(?:^|[\s;&|(])(?:pytest|py\.test|tox|nox|jest|vitest|mocha|karma|rspec|phpunit|ctest"
    r"|python[0-9.]*\s+-m\s+(?:pytest|unittest)|go\s+test|cargo\s+(?:test|nextest)|(?:npm|pnpm|yarn"
    r"|bun)\s+(?:run\s+)?test"
    r"|make\s+(?:test|check)|mvn\s+test|gradle\w*\s+test|dotnet\s+test|bazel\s+test|deno\s+test)(?=$|[\s;&"
    r"|)])"
)
_FAIL = lazy_compile(
    r"\b\d+ (?:failed|errors?)\b|\bFAILED\b|\bFAIL(?:ED|URES?)?:|^FAIL\b|\bTests?:\s+\d+ failed"
    r"|\bAssertionError\b"
    r"|\btest result: FAILED\b|--- FAIL:|\bnpm ERR! Test failed|\bERRORS?\b.*\bcollect|exit (?:code"
    r"|status) [1-9]",
    re.M,
)
_PASS = lazy_compile(
    r"\b\d+ passed\b|^OK\b|\bPASS(?:ED)?\b|^ok\s|\btest result: ok\b|\bTests?:\s+\d+ passed"
    r"|\b[Aa]ll tests? passed\b",
    re.M,
)


# Every runner _RUNNER names contains one of these (a command with none of them is no test run).
_RUNNER_LITERALS = ("test", "tox", "nox", "jest", "mocha", "karma", "rspec", "phpunit", "check")
# Every failure _FAIL reports contains one of these.
_FAIL_LITERALS = ("fail", "error", "FAIL", "AssertionError", "ERROR", "exit ")

# The last answer of each, by the identity of the text: a tool call's command is asked about by
# several detectors (on its call and on its result), and its output by two. A tuple is swapped in
# whole, so concurrent runs read a consistent one; it holds the text, so the identity stays valid.
_last_command: tuple[str | None, bool] = (None, False)
_last_outcome: tuple[str | None, Outcome | None] = (None, None)


def is_test_command(command: str) -> bool:
    global _last_command  # noqa: PLW0603 - a one-entry cache
    last = _last_command
    if last[0] is command:
        return last[1]
    found = False
    for literal in _RUNNER_LITERALS:
        if literal in command:
            found = bool(_RUNNER.search(command))
            break
    _last_command = (command, found)
    return found


def outcome(output: str, error: str | None) -> Outcome | None:
    """``fail`` when the output reports failures (or the call errored), ``pass`` when it reports
    passes and no failure, ``None`` when it says neither."""
    if error:
        return "fail"
    global _last_outcome  # noqa: PLW0603 - a one-entry cache
    last = _last_outcome
    if last[0] is output:
        return last[1]
    result = _outcome(output[-8192:] if len(output) > 8192 else output)
    _last_outcome = (output, result)
    return result


def _outcome(text: str) -> Outcome | None:
    for literal in _FAIL_LITERALS:
        if literal in text:
            if _FAIL.search(text):
                return "fail"
            break
    if _PASS.search(text):
        return "pass"
    return None
