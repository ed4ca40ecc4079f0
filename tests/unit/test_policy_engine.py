"""Policy: combination, defaults, shadow mode, failing rules, the kind index, facts and explanations."""

from __future__ import annotations

import json
import os
import pickle
import time
from pathlib import Path
from typing import Any

import pytest

import agentguard as ag
from agentguard.action import Decision
from agentguard.policy import Policy, combine, rules
from agentguard.policy._base import facts_of


def shell(command: str, cwd: str | None = None) -> ag.Action:
    return ag.Action(kind="shell", tool="run", command=command, cwd=cwd)


def answer(outcome: str | None, name: str, reason: str = "") -> Any:
    def rule(action: ag.Action, run: ag.RunState | None) -> Decision | None:
        if outcome is None:
            return None
        return Decision(outcome=outcome, reason=reason or f"{name} says {outcome}")  # type: ignore[arg-type]

    rule.__name__ = name
    return rule


@pytest.mark.parametrize(
    ("outcomes", "expected", "deciding"),
    [
        (["allow", "ask", "deny"], "deny", ("r3",)),
        (["deny", "deny", "allow"], "deny", ("r1", "r2")),
        (["allow", "ask", None], "ask", ("r2",)),
        (["allow", None, "allow"], "allow", ("r1", "r3")),
        ([None, None, None], "allow", ()),
    ],
    ids=["deny-wins", "every-denier-is-named", "ask-beats-allow", "allows", "default"],
)
def test_deny_wins_then_ask_then_allow_then_the_default(
    outcomes: list[str | None], expected: str, deciding: tuple[str, ...]
) -> None:
    policy = Policy(rules=[answer(o, f"r{i}") for i, o in enumerate(outcomes, 1)])
    decision = policy.check(ag.Action(kind="other", tool="t"))
    assert decision.outcome == expected
    assert decision.rule_ids == deciding
    voted = {f"r{i}" for i, o in enumerate(outcomes, 1) if o is not None}
    assert set(decision.matched) == voted - set(deciding)


@pytest.mark.parametrize("default", ["allow", "deny", "ask"])
def test_unmatched_actions_get_the_default(default: Any) -> None:
    decision = Policy(default=default).check(ag.Action(kind="other", tool="t"))
    assert (decision.outcome, decision.rule_ids) == (default, ())
    assert "default" in decision.explain()


def test_an_allow_rule_overrides_a_deny_default() -> None:
    policy = Policy(rules=[answer("allow", "ok")], default="deny")
    assert policy.check(ag.Action(kind="other", tool="t")).outcome == "allow"


def test_shadow_mode_decides_the_same_but_is_marked_shadow() -> None:
    enforce = Policy(rules=[rules.destructive_commands()])
    shadow = Policy(rules=[rules.destructive_commands()], mode="shadow")
    a, b = enforce.check(shell("git push -f")), shadow.check(shell("git push -f"))
    assert (a.outcome, b.outcome) == ("deny", "deny")
    assert (a.mode, b.mode) == ("enforce", "shadow")
    assert a.blocks and not b.blocks
    assert "Shadow mode" in b.explain()


def test_a_rule_that_raises_denies_naming_the_rule() -> None:
    def flaky_rule(action: ag.Action, run: ag.RunState | None) -> Decision | None:
        raise KeyError("boom")

    decision = Policy(rules=[answer("allow", "fine"), flaky_rule]).check(shell("ls"))
    assert decision.outcome == "deny"
    assert decision.rule_ids == ("flaky_rule",)
    assert "flaky_rule raised KeyError" in decision.reason
    assert decision.matched == ("fine",)


def test_a_rule_returning_something_else_denies() -> None:
    def sloppy(action: ag.Action, run: ag.RunState | None) -> Any:
        return "allow"

    decision = Policy(rules=[sloppy]).check(shell("ls"))
    assert (decision.outcome, decision.rule_ids) == ("deny", ("sloppy",))


def test_rule_ids_come_from_rule_id_then_the_name() -> None:
    class Custom:
        rule_id = "team.custom"

        def __call__(self, action: ag.Action, run: ag.RunState | None) -> Decision | None:
            return Decision.ask("check with the team")

    policy = Policy(scope=ag.Scope(root="."), rules=[Custom(), answer("allow", "named")])
    assert policy.rule_ids == (
        "scope.read",
        "scope.write",
        "scope.hosts",
        "scope.opaque",
        "team.custom",
        "named",
    )
    assert policy.check(ag.Action(kind="other", tool="t")).rule_ids == ("team.custom",)


def test_rules_declaring_kinds_are_only_called_for_those_kinds() -> None:
    calls: list[str] = []

    def llm_only(action: ag.Action, run: ag.RunState | None) -> Decision | None:
        calls.append(action.kind)
        return None

    llm_only.kinds = frozenset({"llm"})  # type: ignore[attr-defined]
    policy = Policy(rules=[llm_only])
    policy.check(shell("ls"))
    policy.check(ag.Action(kind="llm", tool="openai.chat", model="m"))
    assert calls == ["llm"]


def test_rules_declaring_tools_are_only_called_for_those_tools() -> None:
    def only_bash(action: ag.Action, run: ag.RunState | None) -> Decision | None:
        return Decision.deny("no bash")

    only_bash.tools = frozenset({"Bash"})  # type: ignore[attr-defined]
    policy = Policy(rules=[only_bash])
    assert policy.check(ag.Action(kind="shell", tool="Bash", command="ls")).outcome == "deny"
    assert policy.check(ag.Action(kind="shell", tool="run", command="ls")).outcome == "allow"


def test_unknown_kinds_on_a_rule_are_an_error() -> None:
    def odd(action: ag.Action, run: ag.RunState | None) -> None:
        return None

    odd.kinds = frozenset({"shel"})  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="unknown kinds"):
        Policy(rules=[odd])


@pytest.mark.parametrize("bad", [{"default": "maybe"}, {"mode": "loud"}])
def test_bad_settings_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Policy(**bad)


def test_a_thousand_rule_policy_decides_and_stays_fast() -> None:
    kinds = ["file_read", "file_write", "network", "llm", "agent", "other"]

    def make(i: int) -> Any:
        def rule(action: ag.Action, run: ag.RunState | None) -> Decision | None:
            return Decision.deny(f"rule {i}") if action.tool == f"tool{i}" else None

        rule.__name__ = f"rule{i}"
        rule.kinds = frozenset({kinds[i % len(kinds)]})  # type: ignore[attr-defined]
        return rule

    small = Policy(rules=[make(i) for i in range(50)] + [rules.destructive_commands()])
    big = Policy(rules=[make(i) for i in range(1000)] + [rules.destructive_commands()])
    assert big.check(ag.Action(kind="other", tool="tool995")).rule_ids == ("rule995",)
    assert big.check(shell("git push --force")).rule_ids == ("destructive_commands",)

    def p50(policy: Policy) -> float:
        samples = []
        for _ in range(200):
            action = ag.Action(kind="file_write", tool="write", path="src/a.py")
            t = time.perf_counter()
            policy.check(action)
            samples.append(time.perf_counter() - t)
        return sorted(samples)[len(samples) // 2]

    p50(small), p50(big)  # warm up
    assert p50(big) < 3 * p50(small) + 20e-6


def test_facts_are_derived_once_and_cached_on_the_action(monkeypatch: pytest.MonkeyPatch) -> None:
    import agentguard.normalise as normalise_module

    calls: list[str] = []
    real = normalise_module.normalise

    def counting(action: ag.Action, *, root: str | None = None) -> Any:
        calls.append(action.command or "")
        return real(action, root=root)

    monkeypatch.setattr(normalise_module, "normalise", counting)
    policy = Policy(
        scope=ag.Scope(root="."), rules=[rules.destructive_commands(), rules.secrets(), rules.protect(["x"])]
    )
    action = shell("cat src/a.py")
    decision = policy.check(action)
    policy.check(action)
    assert calls == ["cat src/a.py"]
    assert decision.facts is action.facts


def test_a_relative_root_resolves_against_the_actions_cwd(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    policy = Policy(scope=ag.Scope(root=".", write=["src/**"]))
    inside = ag.Action(kind="file_write", tool="w", path="src/a.py", cwd=str(tmp_path))
    outside = ag.Action(kind="file_write", tool="w", path="../elsewhere.py", cwd=str(tmp_path))
    assert policy.check(inside).outcome == "allow"
    assert facts_of(inside).root == os.path.realpath(tmp_path)
    assert policy.check(outside).outcome == "deny"


def test_a_relative_root_without_cwd_is_the_process_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path)
    policy = Policy(scope=ag.Scope(root=".", write=["src/**"]))
    action = ag.Action(kind="file_write", tool="w", path="src/a.py")
    assert policy.check(action).outcome == "allow"
    assert action.facts.root == os.path.realpath(tmp_path)


def test_explain_says_why_in_a_paragraph() -> None:
    policy = Policy(
        scope=ag.Scope(root=".", write=["src/**"]),
        rules=[rules.destructive_commands(), rules.protect([".git/**"])],
    )
    decision = policy.check(shell("git push --force && echo x > .git/config"))
    text = decision.explain()
    assert text.startswith("Denied by ")
    assert "destructive_commands" in text and "protect" in text
    assert "git push --force" in text  # the facts: what would have run
    assert "\n" not in text


def test_to_dict_is_json_with_decision_rules_matched_and_facts() -> None:
    policy = Policy(scope=ag.Scope(root="."), rules=[rules.destructive_commands(), answer("allow", "also")])
    out = policy.check(shell("git reset --hard")).to_dict()
    json.dumps(out)
    assert out["outcome"] == "deny"
    assert out["rules"] == ["destructive_commands"]
    assert out["matched"] == ["also"]
    assert out["facts"]["commands"][0]["program"] == "git"
    assert len(out["facts_digest"]) == 16


def test_equal_actions_have_equal_digests_and_different_ones_differ() -> None:
    policy = Policy(rules=[rules.destructive_commands()])
    a = policy.check(shell("git  push   -f", cwd="/tmp"))
    b = policy.check(shell("git push -f", cwd="/tmp"))
    c = policy.check(shell("git push --force", cwd="/tmp"))
    assert a.facts_digest == b.facts_digest != c.facts_digest


def test_combine_is_usable_on_its_own() -> None:
    from agentguard.action import Vote

    d = combine([Vote(rule_id="a", outcome="ask", reason="hm"), Vote(rule_id="b", outcome="allow")], "deny")
    assert (d.outcome, d.rule_ids, d.matched) == ("ask", ("a",), ("b",))


def test_denied_with_facts_pickles() -> None:
    decision = Policy(rules=[rules.secrets()]).check(shell("cat .env"))
    err = ag.Denied(decision, tool="run")
    back = pickle.loads(pickle.dumps(err))
    assert back.decision == decision
    assert str(back) == str(err)


def test_decision_keeps_its_old_constructors() -> None:
    d = Decision.deny("nope", rule_id="r")
    assert (d.outcome, d.reason, d.rule_ids, d.matched, d.mode) == ("deny", "nope", ("r",), (), "enforce")
    assert d.to_dict()["facts"] is None and d.facts_digest == ""
    assert Decision.ask("why").explain() == "Needs approval by the policy's default: why."
