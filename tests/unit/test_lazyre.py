"""``lazy_compile``: the same answers as ``re.compile``, compiled on first use, and none at import."""

from __future__ import annotations

import doctest
import re
import subprocess
import sys

import pytest

from agentguard import _lazyre
from agentguard._lazyre import lazy_compile

CASES = [
    (r"(?:git|hg)\s+(push|pull)", re.I, "GIT push origin; hg pull"),
    (r"\b\w+\b", 0, "cd src && pytest -q"),
    (r"(?m)^\s*!", 0, "ls\n  !rm -rf /\n"),
    (r"x", 0, ""),
]


@pytest.mark.parametrize(("pattern", "flags", "text"), CASES)
def test_every_method_answers_as_the_compiled_pattern(pattern: str, flags: int, text: str) -> None:
    compiled = re.compile(pattern, flags)
    # a fresh lazy pattern per method: the first call of each one compiles
    for method in ("search", "match", "fullmatch"):
        got = getattr(lazy_compile(pattern, flags), method)(text)
        want = getattr(compiled, method)(text)
        assert (got and got.span(), got and got.groups()) == (want and want.span(), want and want.groups())
    assert lazy_compile(pattern, flags).findall(text) == compiled.findall(text)
    assert [m.span() for m in lazy_compile(pattern, flags).finditer(text)] == [
        m.span() for m in compiled.finditer(text)
    ]
    assert lazy_compile(pattern, flags).sub("<>", text) == compiled.sub("<>", text)
    assert lazy_compile(pattern, flags).subn(lambda m: m.group(0).upper(), text) == compiled.subn(
        lambda m: m.group(0).upper(), text
    )
    assert lazy_compile(pattern, flags).split(text) == compiled.split(text)


def test_compiled_on_first_use_then_the_compiled_methods_themselves() -> None:
    lazy = lazy_compile(r"a+", re.I)
    assert not lazy.compiled
    assert (lazy.pattern, lazy.flags) == ("a+", re.I)
    assert lazy.search("xAAy") is not None
    assert lazy.compiled
    assert lazy.match == re.compile(r"a+", re.I).match  # bound methods of the same cached pattern


def test_a_bad_pattern_raises_at_first_use_as_re_compile_does() -> None:
    lazy = lazy_compile(r"(unclosed")
    with pytest.raises(re.error):
        lazy.search("x")


def test_other_attributes_are_not_invented() -> None:
    with pytest.raises(AttributeError):
        getattr(lazy_compile("x"), "scanner")  # noqa: B009


def test_module_doctest() -> None:
    assert doctest.testmod(_lazyre).failed == 0


def test_the_hook_path_compiles_no_pattern_at_import() -> None:
    """Importing the normaliser, the policy rules and the hook engine compiles no regular expression
    of agentguard's (each table's pattern is compiled when a command first needs it)."""
    script = """
import re, sys
seen = []
original = re._compile
def counting(pattern, flags):
    caller = sys._getframe(1)
    while caller is not None and caller.f_globals.get("__name__", "").split(".")[0] == "re":
        caller = caller.f_back
    name = caller.f_globals.get("__name__", "") if caller is not None else ""
    if name.startswith("agentguard"):
        seen.append((name, str(pattern)[:60]))
    return original(pattern, flags)
re._compile = counting
import agentguard.normalise, agentguard.policy.rules, agentguard.cli._hook_engine, agentguard.cli._hook_run
print(seen)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
