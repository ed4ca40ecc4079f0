"""The built-in rules one by one: rate limits, tool and model lists, protect, secrets, agents."""

from __future__ import annotations

from pathlib import Path

import pytest

import agentguard as ag
from agentguard.policy import Policy, rules


def shell(command: str, cwd: str | None = None) -> ag.Action:
    return ag.Action(kind="shell", tool="run", command=command, cwd=cwd)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_is_a_sliding_window() -> None:
    limit = rules.rate_limit(3, per_seconds=10, kinds=["shell"])
    clock = Clock()
    limit.clock = clock
    policy = Policy(rules=[limit])
    outcomes = [policy.check(shell("ls")).outcome for _ in range(4)]
    assert outcomes == ["allow", "allow", "allow", "deny"]
    assert "more than 3 shell calls in 10s" in policy.check(shell("ls")).reason
    clock.now += 10.5
    assert policy.check(shell("ls")).outcome == "allow"


def test_rate_limit_counts_only_its_kinds_and_each_run_apart() -> None:
    limit = rules.rate_limit(1, per_seconds=60, kinds=["bash"])  # an alias of shell
    policy = Policy(rules=[limit])
    assert policy.check(ag.Action(kind="file_read", tool="r", path="a")).outcome == "allow"
    assert policy.check(ag.Action(kind="file_read", tool="r", path="a")).outcome == "allow"

    @ag.guarded(policy=policy, guard=ag.Guard())
    def agent() -> list[str]:
        run = ag.current_run()
        return [policy.check(shell("ls"), run).outcome for _ in range(2)]

    assert agent() == ["allow", "deny"]
    assert agent() == ["allow", "deny"]  # a new run, a new window


@pytest.mark.parametrize(
    ("rule", "tool", "outcome"),
    [
        (rules.tools(allow=["read_*", "run"]), "read_file", "allow"),
        (rules.tools(allow=["read_*", "run"]), "delete_repo", "deny"),
        (rules.tools(deny=["delete_*"]), "delete_repo", "deny"),
        (rules.tools(deny=["delete_*"]), "read_file", "allow"),
        (rules.tools(allow=["*"], deny=["Bash"]), "Bash", "deny"),
    ],
)
def test_tool_allow_and_deny_lists(rule: rules.Tools, tool: str, outcome: str) -> None:
    assert Policy(rules=[rule]).check(ag.Action(kind="other", tool=tool)).outcome == outcome


@pytest.mark.parametrize(
    ("model", "outcome"), [("gpt-4.1-mini", "allow"), ("o3-pro", "deny"), (None, "deny")]
)
def test_model_allow_list_applies_to_llm_actions(model: str | None, outcome: str) -> None:
    policy = Policy(rules=[rules.models(allow=["gpt-4.1*", "gpt-4o-mini"])])
    assert policy.check(ag.Action(kind="llm", tool="openai.chat", model=model)).outcome == outcome
    assert policy.check(shell("ls")).outcome == "allow"


def test_protect_covers_every_way_of_writing(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "agentguard_policy.py").write_text("")
    (tmp_path / "src" / "alias.py").symlink_to(tmp_path / "agentguard_policy.py")
    policy = Policy(
        scope=ag.Scope(root=str(tmp_path), write=["**"]), rules=[rules.protect(["agentguard_policy.py"])]
    )
    root = str(tmp_path)
    for action in [
        ag.Action(kind="file_write", tool="w", path="agentguard_policy.py", cwd=root),
        ag.Action(kind="file_write", tool="w", path="src/alias.py", cwd=root),
        shell("echo 'policy = None' > ./src/../agentguard_policy.py", cwd=root),
        shell("rm agentguard_policy.py", cwd=root),
        shell("mv agentguard_policy.py /tmp/x", cwd=root),
        shell("python3 -c \"open('agentguard_policy.py', 'w')\"", cwd=root),
    ]:
        decision = policy.check(action)
        assert decision.outcome == "deny", action.command or action.path
        assert "protect" in decision.rule_ids
    assert policy.check(shell("cat agentguard_policy.py", cwd=root)).outcome == "allow"


def test_secrets_extra_and_allow() -> None:
    policy = Policy(rules=[rules.secrets(extra=["*.token"], allow=[".env.test"])])
    assert policy.check(shell("cat deploy.token")).outcome == "deny"
    assert policy.check(shell("cat .env.test")).outcome == "allow"
    assert policy.check(shell("cat .env.production")).outcome == "deny"


def test_secret_files_are_not_blocked_from_being_written() -> None:
    policy = Policy(rules=[rules.secrets()])
    assert policy.check(shell("echo KEY=x > .env.local")).outcome == "allow"


def test_env_dumps_can_be_allowed() -> None:
    assert Policy(rules=[rules.secrets(env_dumps=False)]).check(shell("printenv")).outcome == "allow"


@pytest.mark.parametrize(("opaque", "outcome"), [("ask", "ask"), ("deny", "deny")])
def test_destructive_commands_opaque_shell_asks_or_denies(opaque: str, outcome: str) -> None:
    policy = Policy(rules=[rules.destructive_commands(opaque=opaque)])  # type: ignore[arg-type]
    assert policy.check(shell("$TOOL --all")).outcome == outcome


def test_destructive_commands_other_forced_git_operations_ask() -> None:
    policy = Policy(rules=[rules.destructive_commands()])
    assert policy.check(shell("git branch -D old")).outcome == "ask"
    assert policy.check(shell("git stash drop")).outcome == "ask"


def test_no_agent_spawn_allow_list_and_agent_tools() -> None:
    assert Policy(rules=[rules.no_agent_spawn(allow=["llm"])]).check(shell("llm 'hi'")).outcome == "allow"
    strict = Policy(rules=[rules.no_agent_spawn(agent_tools=True)])
    assert strict.check(ag.Action(kind="agent", tool="Task")).outcome == "deny"
    assert (
        Policy(rules=[rules.no_agent_spawn()]).check(ag.Action(kind="agent", tool="Task")).outcome == "allow"
    )


def test_scope_rules_are_available_on_their_own(tmp_path: Path) -> None:
    scope = ag.Scope(root=str(tmp_path), write=["src/**"], hosts=["*.example.org"])
    policy = Policy(rules=list(rules.scope(scope)))
    assert (
        policy.check(ag.Action(kind="network", tool="f", url="https://api.example.org/x")).outcome == "allow"
    )
    assert (
        policy.check(ag.Action(kind="network", tool="f", url="https://example.org.evil.io/")).outcome
        == "deny"
    )
    assert policy.check(ag.Action(kind="network", tool="WebSearch")).outcome == "ask"


def test_listed_loopback_hosts_are_allowed() -> None:
    policy = Policy(scope=ag.Scope(root=".", hosts=["127.0.0.1"]))
    assert policy.check(ag.Action(kind="network", tool="f", url="http://0x7f000001:8080/")).outcome == "allow"
    assert policy.check(ag.Action(kind="network", tool="f", url="http://localhost/")).outcome == "deny"


def test_dynamic_paths_ask() -> None:
    policy = Policy(scope=ag.Scope(root=".", write=["**"]))
    assert policy.check(shell('echo x > "$OUT"')).outcome == "ask"


def test_an_unknown_program_given_a_protected_file_asks_unless_trusted(tmp_path: Path) -> None:
    (tmp_path / "agentguard_policy.py").write_text("")
    scope = ag.Scope(root=str(tmp_path), write=["**"], read=["**"])
    action = ag.Action(kind="shell", tool="bash", cwd=str(tmp_path), command="mytool agentguard_policy.py")
    asked = ag.Policy(scope=scope, rules=[rules.protect(["agentguard_policy.py"])]).check(action)
    trusted = ag.Policy(scope=scope, rules=[rules.protect(["agentguard_policy.py"], trust=["mytool"])]).check(
        action
    )
    assert (asked.outcome, asked.rule_ids) == ("ask", ("protect",))
    assert trusted.outcome == "allow"


@pytest.mark.parametrize(
    "command",
    [
        "grep -r --exclude=.env KEY .",
        "rg -g '!.env' KEY",
        "tar --exclude=.env -czf out.tgz .",
    ],
)
def test_a_recursive_reader_told_to_skip_a_secret_still_reads_the_ones_below(
    tmp_path: Path, command: str
) -> None:
    (tmp_path / ".env").write_text("KEY=1\n")
    (tmp_path / "deploy" / "keys").mkdir(parents=True)
    (tmp_path / "deploy" / "keys" / "server.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    policy = ag.Policy(scope=ag.Scope(root=str(tmp_path), read=["**"], write=["**"]), rules=[rules.secrets()])
    decision = policy.check(ag.Action(kind="shell", tool="bash", cwd=str(tmp_path), command=command))
    assert decision.outcome == "deny" and "server.pem" in decision.reason, decision.explain()
