"""The normaliser's fast constructors make exactly what the classes' own constructors make."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentguard.action import Decision
from agentguard.normalise import CommandFact, Facts, GitFact, PathFact, ShellFacts, UrlFact
from agentguard.normalise._facts import builder

text = st.text(max_size=8)
texts = st.lists(text, max_size=3).map(tuple)
maybe_text = st.none() | text

COMMAND = st.fixed_dictionaries(
    {"argv": texts, "program": text, "args": texts},
    optional={
        "wrappers": texts,
        "subcommand": maybe_text,
        "assignments": texts,
        "cwd": maybe_text,
        "depth": st.integers(0, 5),
        "opaque": st.booleans(),
        "opaque_reason": maybe_text,
    },
)
PATH = st.fixed_dictionaries(
    {
        "raw": text,
        "resolved": text,
        "relative": maybe_text,
        "inside_root": st.booleans(),
        "exists": st.booleans(),
        "access": st.sampled_from(["read", "write", "delete", "exec"]),
        "via": text,
    },
    optional={"program": maybe_text, "dynamic": st.booleans(), "glob": st.booleans()},
)
GIT = st.fixed_dictionaries(
    {"subcommand": maybe_text, "args": texts, "cwd": maybe_text},
    optional={
        "force": st.booleans(),
        "delete": st.booleans(),
        "remote": maybe_text,
        "refspecs": texts,
        "config": texts,
    },
)


def _same(made: object, built: object) -> None:
    assert type(built) is type(made)
    assert built == made
    assert hash(built) == hash(made)
    assert repr(built) == repr(made)
    assert dataclasses.astuple(built) == dataclasses.astuple(made)  # type: ignore[call-overload]


@given(COMMAND)
def test_command_fact_builder_equals_the_constructor(kwargs: dict[str, Any]) -> None:
    _same(CommandFact(**kwargs), builder(CommandFact)(**kwargs))


@given(PATH)
def test_path_fact_builder_equals_the_constructor(kwargs: dict[str, Any]) -> None:
    _same(PathFact(**kwargs), builder(PathFact)(**kwargs))


@given(GIT)
def test_git_fact_builder_equals_the_constructor(kwargs: dict[str, Any]) -> None:
    _same(GitFact(**kwargs), builder(GitFact)(**kwargs))


@given(st.lists(COMMAND, max_size=3), st.booleans(), st.lists(text, max_size=2))
def test_shell_and_action_facts_builders_equal_the_constructors(
    commands: list[dict[str, Any]], env_dump: bool, reasons: list[str]
) -> None:
    kwargs: dict[str, Any] = {
        "command": "x",
        "commands": tuple(CommandFact(**c) for c in commands),
        "paths": (),
        "urls": (),
        "git": (),
        "opaque": bool(reasons),
        "reasons": tuple(reasons),
        "env_dump": env_dump,
    }
    shell = ShellFacts(**kwargs)
    _same(shell, builder(ShellFacts)(**kwargs))
    _same(
        Facts(kind="shell", root="/r", cwd="/r", shell=shell, opaque=shell.opaque),
        builder(Facts)(kind="shell", root="/r", cwd="/r", shell=shell, opaque=shell.opaque),
    )


@given(st.sampled_from(["allow", "deny", "ask"]), text, texts)
def test_decision_builder_equals_the_constructor(outcome: str, reason: str, ids: tuple[str, ...]) -> None:
    made = Decision(outcome=outcome, reason=reason, rule_ids=ids)  # type: ignore[arg-type]
    _same(made, builder(Decision)(outcome=outcome, reason=reason, rule_ids=ids))  # type: ignore[arg-type]


def test_built_facts_stay_frozen() -> None:
    fact = builder(UrlFact)(
        raw="https://x.org",
        scheme="https",
        host="x.org",
        port=None,
        ip=None,
        is_loopback=False,
        is_private=False,
        is_metadata=False,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        fact.host = "evil.org"  # type: ignore[misc]


def test_builders_refuse_classes_they_cannot_copy_exactly() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True, slots=True)
    class Listed:
        xs: list[int] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        x: int

    for cls in (Checked, Listed, NoSlots):
        with pytest.raises(TypeError):
            builder(cls)
