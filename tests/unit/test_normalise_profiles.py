"""Other agents' tool calls map to actions whose facts match what the tool will do."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from agentguard.normalise import action_from_tool_call, normalise

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
