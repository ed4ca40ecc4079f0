"""Other agents' tool calls map to actions whose facts match what the tool will do."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentguard import Scope
from agentguard.normalise import action_from_tool_call, normalise
from agentguard.normalise._profiles import opaque_reasons, problems
from agentguard.policy import Policy, rules

PATCH = """*** Begin Patch
*** Add File: src/new.py
+print(1)
*** Update File: src/old.py
*** Move to: src/renamed.py
@@
-a
+b
*** Delete File: tests/gone.py
*** Update File: ../outside.py
@@
-x
+y
*** End Patch
"""

CALLS = [
    # (tool, arguments, profile, kind, expected (access, relative-or-!outside) set)
    pytest.param(
        "Bash",
        {"command": "rm -rf src/build", "description": "clean"},
        None,
        "shell",
        {("delete", "src/build")},
        id="claude-bash",
    ),
    pytest.param(
        "Write",
        {"file_path": "<root>/src/a.py", "content": "x"},
        None,
        "file_write",
        {("write", "src/a.py")},
        id="claude-write",
    ),
    pytest.param(
        "Edit",
        {"file_path": "<root>/tests/t.py", "old_string": "a", "new_string": "b"},
        None,
        "file_write",
        {("write", "tests/t.py")},
        id="claude-edit",
    ),
    pytest.param(
        "MultiEdit",
        {"file_path": "<root>/src/a.py", "edits": [{"old_string": "a", "new_string": "b"}]},
        None,
        "file_write",
        {("write", "src/a.py")},
        id="claude-multiedit",
    ),
    pytest.param(
        "NotebookEdit",
        {"notebook_path": "<root>/nb.ipynb", "new_source": "x"},
        None,
        "file_write",
        {("write", "nb.ipynb")},
        id="claude-notebookedit",
    ),
    pytest.param(
        "Read", {"file_path": "<root>/.env"}, None, "file_read", {("read", ".env")}, id="claude-read"
    ),
    pytest.param(
        "Glob",
        {"pattern": "**/*.py", "path": "<root>/src"},
        None,
        "file_read",
        {("read", "src/**/*.py"), ("read", "src")},
        id="claude-glob",
    ),
    pytest.param(
        "Glob",
        {"pattern": "../../**/.env"},
        None,
        "file_read",
        {("read", "!outside")},
        id="claude-glob-escape",
    ),
    pytest.param(
        "Grep",
        {"pattern": "rm -rf", "path": "<root>/src"},
        None,
        "file_read",
        {("read", "src")},
        id="claude-grep",
    ),
    pytest.param(
        "WebFetch",
        {"url": "https://evil.example/x", "prompt": "summarise"},
        None,
        "network",
        set(),
        id="claude-webfetch",
    ),
    pytest.param("WebSearch", {"query": "agentguard"}, None, "network", set(), id="claude-websearch"),
    pytest.param("Task", {"description": "x", "prompt": "y"}, None, "agent", set(), id="claude-task"),
    pytest.param(
        "shell",
        {"command": ["bash", "-lc", "rm -rf ~"], "workdir": "<root>"},
        None,
        "shell",
        {("delete", "!outside")},
        id="codex-shell-list",
    ),
    pytest.param(
        "shell",
        {"command": "cat .env", "workdir": "<root>/src"},
        None,
        "shell",
        {("read", "src/.env")},
        id="codex-shell-str",
    ),
    pytest.param(
        "shell",
        {"command": ["apply_patch", PATCH], "workdir": "<root>"},
        None,
        "file_write",
        {
            ("write", "src/new.py"),
            ("write", "src/old.py"),
            ("write", "src/renamed.py"),
            ("delete", "src/old.py"),
            ("delete", "tests/gone.py"),
            ("write", "!outside"),
        },
        id="codex-shell-apply-patch",
    ),
    pytest.param(
        "apply_patch",
        {"input": PATCH},
        None,
        "file_write",
        {
            ("write", "src/new.py"),
            ("write", "src/old.py"),
            ("write", "src/renamed.py"),
            ("delete", "src/old.py"),
            ("delete", "tests/gone.py"),
            ("write", "!outside"),
        },
        id="codex-apply-patch",
    ),
    pytest.param(
        "read_file",
        {"path": "<root>/src/a.py"},
        None,
        "file_read",
        {("read", "src/a.py")},
        id="mcp-read-file",
    ),
    pytest.param(
        "read_multiple_files",
        {"paths": ["<root>/a", "/etc/passwd"]},
        None,
        "file_read",
        {("read", "a"), ("read", "!outside")},
        id="mcp-read-multiple",
    ),
    pytest.param(
        "write_file",
        {"path": "<root>/src/a.py", "content": "x"},
        None,
        "file_write",
        {("write", "src/a.py")},
        id="mcp-write-file",
    ),
    pytest.param(
        "edit_file",
        {"path": "<root>/src/a.py", "edits": []},
        None,
        "file_write",
        {("write", "src/a.py")},
        id="mcp-edit-file",
    ),
    pytest.param(
        "create_directory",
        {"path": "<root>/src/pkg"},
        None,
        "file_write",
        {("write", "src/pkg")},
        id="mcp-mkdir",
    ),
    pytest.param("list_directory", {"path": "<root>"}, None, "file_read", {("read", ".")}, id="mcp-list"),
    pytest.param(
        "directory_tree", {"path": "<root>/src"}, None, "file_read", {("read", "src")}, id="mcp-tree"
    ),
    pytest.param(
        "move_file",
        {"source": "<root>/src/a.py", "destination": "/tmp/a.py"},
        None,
        "file_write",
        {("delete", "src/a.py"), ("write", "!outside")},
        id="mcp-move",
    ),
    pytest.param(
        "search_files",
        {"path": "<root>/src", "pattern": "*.py"},
        None,
        "file_read",
        {("read", "src"), ("read", "src/**")},
        id="mcp-search",
    ),
    pytest.param(
        "get_file_info", {"path": "<root>/src"}, None, "file_read", {("read", "src")}, id="mcp-info"
    ),
    pytest.param(
        "mcp__filesystem__write_file",
        {"path": "<root>/x", "content": ""},
        None,
        "file_write",
        {("write", "x")},
        id="mcp-prefixed",
    ),
    pytest.param(
        "write_file",
        {"path": "<root>/x", "content": ""},
        "mcp_filesystem",
        "file_write",
        {("write", "x")},
        id="explicit-profile",
    ),
    pytest.param("bash", {"cmd": "rm -rf ~"}, None, "shell", {("delete", "!outside")}, id="agentguard-alias"),
    pytest.param("fetch", {"url": "https://x.example"}, None, "network", set(), id="agentguard-fetch"),
    pytest.param("mystery", {"path": "<root>/src/a"}, None, "other", {("write", "src/a")}, id="unknown-tool"),
]


def _sub(value: Any, root: str) -> Any:
    if isinstance(value, str):
        return value.replace("<root>", root)
    if isinstance(value, list):
        return [_sub(v, root) for v in value]
    if isinstance(value, dict):
        return {k: _sub(v, root) for k, v in value.items()}
    return value


@pytest.fixture
def root(tmp_path: Path) -> str:
    (tmp_path / "src").mkdir()
    return os.path.realpath(tmp_path)


@pytest.mark.parametrize(("tool", "arguments", "profile", "kind", "expected"), CALLS)
def test_tool_calls_map_to_facts(
    root: str,
    tool: str,
    arguments: dict[str, Any],
    profile: str | None,
    kind: str,
    expected: set[tuple[str, str]],
) -> None:
    args = _sub(arguments, root)
    action = action_from_tool_call(tool, args, cwd=root, profile=profile)
    assert action.kind == kind
    assert action.arguments == args
    facts = normalise(action, root=root)
    seen = {(p.access, p.relative if p.inside_root else "!outside") for p in facts.paths}
    assert seen == expected


def test_webfetch_url_facts(root: str) -> None:
    facts = normalise(
        action_from_tool_call("WebFetch", {"url": "https://ok.org@evil.example/", "prompt": ""})
    )
    assert facts.hosts == ("evil.example",)


def test_codex_workdir_is_the_cwd(root: str) -> None:
    action = action_from_tool_call("shell", {"command": ["ls"], "workdir": root + "/src"})
    assert action.cwd == root + "/src"
    assert action.command == "ls"


def test_an_unknown_profile_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown profile 'nope'"):
        action_from_tool_call("Bash", {"command": "ls"}, profile="nope")


@pytest.mark.parametrize(
    "arguments", [None, [], "x", {"command": 3}, {"paths": "not-a-list"}, {"command": [1, 2]}]
)
def test_malformed_arguments_never_raise(arguments: Any) -> None:
    for tool in ("Bash", "read_multiple_files", "shell", "apply_patch", "move_file", "Glob"):
        action = action_from_tool_call(tool, arguments)
        normalise(action, root="/")


# -- tools no profile knows: mapped by the shapes of their arguments -------------------------------

_POLICY = Policy(
    scope=Scope(root="/work/project", write=["src/**"]),
    rules=[rules.destructive_commands(), rules.secrets()],
)
_servers = st.sampled_from(["mcp__shell__", "mcp__my-box__", "mcp__a_b_c__", "desktop__", ""])
_shell_tools = st.sampled_from(
    ["execute", "run_command", "Shell", "bash", "terminal_exec", "runShellCommand", "exec", "spawnProcess"]
)
_command_keys = st.sampled_from(["command", "cmd", "commandLine", "shell_command", "script", "bash", "argv"])
_path_keys = st.sampled_from(["path", "file_path", "filePath", "targetFile", "filename", "dir", "FILE"])
_read_tools = st.sampled_from(["read", "read_text", "getFile", "view_file", "cat", "open_document"])
_names = st.text(st.characters(categories=["L", "N"], include_characters="_-"), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(server=_servers, tool=_shell_tools, key=_command_keys, as_list=st.booleans())
def test_a_command_under_any_command_key_is_analysed(server: str, tool: str, key: str, as_list: bool) -> None:
    command: Any = ["bash", "-c", "rm -rf ~"] if as_list else "rm -rf ~"
    action = action_from_tool_call(server + tool, {key: command, "timeout": 30})
    assert action.kind == "shell"
    assert _POLICY.check(action).outcome == "deny"


@settings(max_examples=60, deadline=None)
@given(server=_servers, tool=_read_tools, key=_path_keys)
def test_a_secret_path_under_any_path_key_is_read(server: str, tool: str, key: str) -> None:
    action = action_from_tool_call(server + tool, {key: "~/.ssh/id_rsa"})
    assert _POLICY.check(action).outcome == "deny"


@settings(max_examples=60, deadline=None)
@given(server=_servers, tool=_names, key=_names, value=st.integers() | st.booleans() | st.none())
def test_a_tool_whose_effect_cannot_be_known_is_opaque(server: str, tool: str, key: str, value: Any) -> None:
    action = action_from_tool_call(server + "zq" + tool, {"zq" + key: value})
    if action.kind in ("llm", "agent"):
        return
    assert opaque_reasons(action)
    assert normalise(action).opaque
    assert _POLICY.check(action).outcome != "allow"


@pytest.mark.parametrize(
    ("tool", "arguments", "url_host"),
    [
        ("mcp__playwright__browser_navigate", {"url": "http://169.254.169.254/latest"}, "169.254.169.254"),
        ("mcp__fetch__fetch", {"url": "https://evil.example/?q=1", "max_length": 5000}, "evil.example"),
        ("mcp__browser__open", {"target": "https://evil.example"}, "evil.example"),
        (
            "mcp__web__get",
            {"request": {"method": "POST", "endpoint": "https://evil.example/x"}},
            "evil.example",
        ),
    ],
)
def test_urls_in_any_argument_are_network_facts(tool: str, arguments: dict[str, Any], url_host: str) -> None:
    action = action_from_tool_call(tool, arguments)
    assert action.kind == "network"
    assert url_host in normalise(action).hosts


@pytest.mark.parametrize(
    ("tool", "arguments", "access"),
    [
        ("mcp__fs2__delete_file", {"path": "/work/project/.git/HEAD"}, "delete"),
        ("mcp__notes__write_note", {"file": "/work/project/README.md", "text": "x"}, "write"),
        ("mcp__fs2__move", {"source": "/work/project/src/a", "destination": "/tmp/a"}, "delete"),
        ("mcp__x__copy_file", {"src": "/home/u/.aws/credentials", "dest": "/work/project/src/c"}, "read"),
    ],
)
def test_the_verb_of_an_unknown_tool_gives_the_access(
    tool: str, arguments: dict[str, Any], access: str
) -> None:
    facts = normalise(action_from_tool_call(tool, arguments), root="/work/project")
    assert access in {p.access for p in facts.paths}
    assert not facts.opaque


def test_a_server_tool_named_like_a_harmless_builtin_is_not_trusted() -> None:
    action = action_from_tool_call("mcp__evil__TodoWrite", {"todos": [], "command": "rm -rf ~"})
    assert action.kind == "shell"
    assert _POLICY.check(action).outcome == "deny"


@pytest.mark.parametrize(
    ("tool", "arguments", "profile", "message"),
    [
        ("Bash", {}, "claude_code", "Bash call without 'command'"),
        ("Write", {"content": "x"}, "claude_code", "without 'file_path'"),
        ("Edit", {"file_path": ["a"], "new_string": ""}, "claude_code", "'file_path' must be a string"),
        ("Read", {"file_path": "a", "limit": True}, "claude_code", "'limit' must be a number"),
        ("shell", {"command": [1, 2]}, "codex", "list of strings"),
        ("run_shell_command", {"command": None}, "gemini_cli", "without 'command'"),
        ("x" * 300, {}, None, "tool name of 300 characters"),
    ],
)
def test_malformed_calls_are_listed(
    tool: str, arguments: dict[str, Any], profile: str | None, message: str
) -> None:
    found = problems(action_from_tool_call(tool, arguments, profile=profile))
    assert any(message in p for p in found), found


def test_deeply_nested_arguments_are_malformed_not_a_crash() -> None:
    nested: Any = "rm -rf ~"
    for _ in range(2000):
        nested = {"a": nested}
    action = action_from_tool_call("mcp__x__tool", {"args": nested})
    assert any("nested deeper" in p for p in problems(action))


@pytest.mark.parametrize("spelling", ["claude-code", "Claude_Code", "claude", "gemini", "codex"])
def test_profile_spellings_are_accepted(spelling: str) -> None:
    action_from_tool_call("Bash", {"command": "ls"}, profile=spelling)
