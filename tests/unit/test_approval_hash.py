"""action_hash: one hash per normalised action, however it is spelled; summaries a human can read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import agentguard as ag
from agentguard.approval import action_hash, normalise_command, summarise


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


def test_independent_of_call_id_content_and_raw_arguments(tmp_path: Path) -> None:
    one = _write(
        "a.py", str(tmp_path), call_id="call_1", content="x", arguments={"path": "a.py", "content": "x"}
    )
    two = _write(
        "a.py", str(tmp_path), call_id="call_2", content="y", arguments={"path": "a.py", "content": "y"}
    )
    assert action_hash(one) == action_hash(two)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("git  push   origin main", "git push origin main"),
        ("  pytest -k parse\t", "pytest -k parse"),
        ("ls\n\n  -la", "ls\n-la"),
    ],
    ids=["inner-spaces", "ends-and-tabs", "blank-lines"],
)
def test_command_whitespace_does_not_matter(tmp_path: Path, left: str, right: str) -> None:
    def shell(command: str) -> ag.Action:
        return ag.Action(kind="shell", tool="run", command=command, cwd=str(tmp_path))

    assert action_hash(shell(left)) == action_hash(shell(right))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("rm -rf build", "rm -rf dist"),
        ("git push origin main", "git push -f origin main"),
        ('rm "a  b"', 'rm "a b"'),
        ("rm a\\  b", "rm a\\ b"),
        ("echo a; rm -rf /", "echo a rm -rf /"),
    ],
    ids=["other-target", "force-flag", "quoted-spaces", "escaped-space", "separator"],
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
        normalise_command(text)
        action_hash(ag.Action(kind="shell", tool="run", command=text))
        action_hash(_write(text))


def test_summary_is_short_one_line_and_shows_the_command() -> None:
    action = ag.Action(kind="shell", tool="run", command="echo hi\n" + "x" * 500)
    summary = summarise(action)
    assert summary.startswith("echo hi x")
    assert "\n" not in summary
    assert len(summary) <= 200


def test_summary_falls_back_to_arguments() -> None:
    action = ag.Action(kind="other", tool="send_email", arguments={"to": "a@example.com"})
    assert summarise(action) == '{"to":"a@example.com"}'
