"""Recognising test runs in shell commands and reading their outcome from the output."""

from __future__ import annotations

import re
from typing import Literal

Outcome = Literal["pass", "fail"]

_RUNNER = re.compile(
    r"(?:^|[\s;&|(])(?:pytest|py\.test|tox|nox|jest|vitest|mocha|karma|rspec|phpunit|ctest"
    r"|python[0-9.]*\s+-m\s+(?:pytest|unittest)|go\s+test|cargo\s+(?:test|nextest)|(?:npm|pnpm|yarn"
    r"|bun)\s+(?:run\s+)?test"
    r"|make\s+(?:test|check)|mvn\s+test|gradle\w*\s+test|dotnet\s+test|bazel\s+test|deno\s+test)(?=$|[\s;&"
    r"|)])"
)
_FAIL = re.compile(
    r"\b\d+ (?:failed|errors?)\b|\bFAILED\b|\bFAIL(?:ED|URES?)?:|^FAIL\b|\bTests?:\s+\d+ failed"
    r"|\bAssertionError\b"
    r"|\btest result: FAILED\b|--- FAIL:|\bnpm ERR! Test failed|\bERRORS?\b.*\bcollect|exit (?:code"
    r"|status) [1-9]",
    re.M,
)
_PASS = re.compile(
    r"\b\d+ passed\b|^OK\b|\bPASS(?:ED)?\b|^ok\s|\btest result: ok\b|\bTests?:\s+\d+ passed"
    r"|\b[Aa]ll tests? passed\b",
    re.M,
)


def is_test_command(command: str) -> bool:
    return bool(_RUNNER.search(command))


def outcome(output: str, error: str | None) -> Outcome | None:
    """``fail`` when the output reports failures (or the call errored), ``pass`` when it reports
    passes and no failure, ``None`` when it says neither."""
    if error:
        return "fail"
    text = output[-8192:] if len(output) > 8192 else output
    if _FAIL.search(text):
        return "fail"
    if _PASS.search(text):
        return "pass"
    return None
