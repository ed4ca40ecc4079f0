"""action_hash: one hash per action, however its paths and hosts are spelled, and a different hash for
any change of what it does; summaries that show the whole action."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import agentguard as ag
from agentguard.approval import action_hash, summarise


def _write(path: str, cwd: str | None = None, **kw: object) -> ag.Action:
    return ag.Action(kind="file_write", tool="write_file", path=path, cwd=cwd, **kw)  # type: ignore[arg-type]


def test_same_file_spelled_differently_hashes_the_same(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    cwd = str(tmp_path)
    spellings = ["src/a.py", "./src/../src/a.py", "src//a.py", str(tmp_path / "src" / "a.py")]
    hashes = {action_hash(_write(p, cwd)) for p in spellings}
    assert len(hashes) == 1


def test_relative_path_resolves_against_process_cwd_without_action_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path)
    assert action_hash(_write("./src/../src/a.py")) == action_hash(_write("src/a.py"))
    assert action_hash(_write("src/a.py")) == action_hash(_write("src/a.py", str(tmp_path)))


def test_symlink_and_its_target_hash_the_same(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.py").write_text("")
    os.symlink(tmp_path / "tests" / "t.py", tmp_path / "link.py")
    assert action_hash(_write("link.py", str(tmp_path))) == action_hash(_write("tests/t.py", str(tmp_path)))


def test_same_relative_path_in_different_directories_differs(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert action_hash(_write("x.py", str(tmp_path / "a"))) != action_hash(
        _write("x.py", str(tmp_path / "b"))
    )


def test_independent_of_call_id_and_of_how_the_path_argument_is_spelled(tmp_path: Path) -> None:
    one = _write(
        "a.py", str(tmp_path), call_id="call_1", content="x", arguments={"path": "a.py", "content": "x"}
    )
    two = _write(
        "./a.py", str(tmp_path), call_id="call_2", content="x", arguments={"path": "./a.py", "content": "x"}
    )
    assert action_hash(one) == action_hash(two)


def test_a_file_write_with_other_content_is_another_action(tmp_path: Path) -> None:
    assert action_hash(_write("a.py", str(tmp_path), content="x")) != action_hash(
        _write("a.py", str(tmp_path), content="import os; os.system('rm -rf ~')")
    )


def test_only_the_blank_ends_of_a_command_are_dropped(tmp_path: Path) -> None:
    def shell(command: str) -> ag.Action:
        return ag.Action(kind="shell", tool="run", command=command, cwd=str(tmp_path))

    assert action_hash(shell("  pytest -k parse\t\n")) == action_hash(shell("pytest -k parse"))


HEREDOC = "python3 - <<'EOF'\nif check():\n    deploy()\nrollback()\nEOF"
HEREDOC_REINDENTED = "python3 - <<'EOF'\nif check():\n    deploy()\n    rollback()\nEOF"


def test_here_doc_indentation_is_part_of_the_command(tmp_path: Path) -> None:
    # The two scripts differ in what Python runs: rollback() always, or only after a check.
    def shell(command: str) -> ag.Action:
        return ag.Action(kind="shell", tool="run", command=command, cwd=str(tmp_path))

    assert action_hash(shell(HEREDOC)) != action_hash(shell(HEREDOC_REINDENTED))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("rm -rf build", "rm -rf dist"),
        ("git push origin main", "git push -f origin main"),
        ('rm "a  b"', 'rm "a b"'),
        ("rm a\\  b", "rm a\\ b"),
        ("echo a; rm -rf /", "echo a rm -rf /"),
        ("git  push   origin main", "git push origin main"),
    ],
    ids=["other-target", "force-flag", "quoted-spaces", "escaped-space", "separator", "inner-spaces"],
)
def test_different_commands_differ(tmp_path: Path, left: str, right: str) -> None:
    def shell(command: str) -> ag.Action:
        return ag.Action(kind="shell", tool="run", command=command, cwd=str(tmp_path))

    assert action_hash(shell(left)) != action_hash(shell(right))


def test_same_command_in_another_directory_differs(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    here = ag.Action(kind="shell", tool="run", command="rm -rf build", cwd=str(tmp_path))
    there = ag.Action(kind="shell", tool="run", command="rm -rf build", cwd=str(tmp_path / "a"))
    assert action_hash(here) != action_hash(there)


def test_kind_and_tool_are_part_of_the_identity(tmp_path: Path) -> None:
    cwd = str(tmp_path)
    write = ag.Action(kind="file_write", tool="write_file", path="a.py", cwd=cwd)
    read = ag.Action(kind="file_read", tool="write_file", path="a.py", cwd=cwd)
    other_tool = ag.Action(kind="file_write", tool="edit", path="a.py", cwd=cwd)
    assert len({action_hash(write), action_hash(read), action_hash(other_tool)}) == 3


def test_url_scheme_and_host_case_do_not_matter_but_path_does() -> None:
    def fetch(url: str) -> ag.Action:
        return ag.Action(kind="network", tool="fetch", url=url)

    assert action_hash(fetch("HTTPS://PyPI.org/simple/")) == action_hash(fetch("https://pypi.org/simple/"))
    assert action_hash(fetch("https://pypi.org/Simple/")) != action_hash(fetch("https://pypi.org/simple/"))


def test_tool_without_canonical_arguments_is_identified_by_its_arguments() -> None:
    def email(to: str) -> ag.Action:
        return ag.Action(kind="other", tool="send_email", arguments={"to": to, "subject": "hi"})

    assert action_hash(email("a@example.com")) == action_hash(email("a@example.com"))
    assert action_hash(email("a@example.com")) != action_hash(email("b@example.com"))


def test_hash_is_stable_hex_sha256() -> None:
    h = action_hash(ag.Action(kind="llm", tool="chat", model="gpt-4o"))
    assert len(h) == 64
    assert int(h, 16) >= 0
    assert h == action_hash(ag.Action(kind="llm", tool="chat", model=" gpt-4o "))


def test_normaliser_never_raises_on_odd_input() -> None:
    for text in ["", "'unterminated", '"x', "\\", "a\\", "\x00", "é  ü"]:
        action_hash(ag.Action(kind="shell", tool="run", command=text))
        action_hash(_write(text))


def test_summary_is_the_whole_action_with_line_breaks() -> None:
    command = "echo hi\n" + "x" * 500
    summary = summarise(ag.Action(kind="shell", tool="run", command=command, arguments={"command": command}))
    assert summary == command


def test_summary_shows_the_arguments_that_change_the_effect() -> None:
    action = ag.Action(
        kind="network",
        tool="http",
        url="https://api.example.com/users/1",
        arguments={"url": "https://api.example.com/users/1", "method": "DELETE"},
    )
    assert summarise(action) == 'https://api.example.com/users/1 {"method":"DELETE"}'


def test_summary_cut_to_a_width_is_one_line() -> None:
    action = ag.Action(kind="shell", tool="run", command="echo hi\n" + "x" * 500)
    summary = summarise(action, width=200)
    assert summary.startswith("echo hi x") and "\n" not in summary and len(summary) <= 200


def test_summary_is_redacted() -> None:
    action = ag.Action(kind="shell", tool="run", command="curl -u deploy:hunter2 https://x")
    assert "hunter2" not in summarise(action)


def test_summary_falls_back_to_arguments() -> None:
    action = ag.Action(kind="other", tool="send_email", arguments={"to": "a@example.com"})
    assert summarise(action) == '{"to":"a@example.com"}'


# --- properties: any change of what the action does changes the hash --------------------------------

_values = st.one_of(
    st.text(max_size=20),
    st.integers(),
    st.booleans(),
    st.none(),
    st.dictionaries(st.text(max_size=5), st.text(max_size=10), max_size=3),
)
_arguments = st.dictionaries(
    st.sampled_from(["method", "body", "stdin", "env", "headers", "data", "mode"]), _values, max_size=4
)


def _network(url: str, arguments: dict[str, object]) -> ag.Action:
    return ag.Action(kind="network", tool="http", url=url, arguments={"url": url, **arguments})


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(["method", "body", "stdin", "env", "headers", "data", "mode"]),
    before=_values,
    after=_values,
    others=_arguments,
)
def test_any_change_of_an_argument_changes_the_hash(
    name: str, before: object, after: object, others: dict[str, object]
) -> None:
    if before == after and type(before) is type(after):
        return
    one = _network("https://api.example.com/v1/items", {**others, name: before})
    two = _network("https://api.example.com/v1/items", {**others, name: after})
    assert action_hash(one) != action_hash(two)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_any_change_of_content_changes_the_hash(before: str, after: str) -> None:
    if before == after:
        return
    one = ag.Action(kind="file_write", tool="write_file", path="/repo/a.py", content=before)
    two = ag.Action(kind="file_write", tool="write_file", path="/repo/a.py", content=after)
    assert action_hash(one) != action_hash(two)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=60), st.data())
def test_any_change_of_script_text_inside_its_blank_ends_changes_the_hash(
    script: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(script)))
    insert = data.draw(st.sampled_from([" ", "\t", "\n", "  ", "x", ";"]))
    changed = script[:at] + insert + script[at:]
    if changed.strip() == script.strip():
        return
    one = ag.Action(kind="shell", tool="run", command=script, cwd="/repo")
    two = ag.Action(kind="shell", tool="run", command=changed, cwd="/repo")
    assert action_hash(one) != action_hash(two)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
)
def test_the_http_method_is_part_of_the_identity(left: str, right: str) -> None:
    same = action_hash(_network("https://x.example/a", {"method": left})) == action_hash(
        _network("https://x.example/a", {"method": right})
    )
    assert same == (left == right)
