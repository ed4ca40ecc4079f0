"""Paths resolve the way the kernel will open them: symlinks of root and target, ``..``, ``~``, cwd."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentguard.action import Action
from agentguard.normalise import PathFact, normalise

HOME = os.path.realpath(os.path.expanduser("~"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repo with src/ and tests/, links in src/ pointing into tests/ and out of the root."""
    r = tmp_path / "repo"
    (r / "src").mkdir(parents=True)
    (r / "tests" / "sub").mkdir(parents=True)
    (r / "tests" / "t.py").write_text("")
    outside = tmp_path / "outside"
    outside.mkdir()
    (r / "src" / "to_tests").symlink_to("../tests")
    (r / "src" / "to_sub").symlink_to(r / "tests" / "sub")
    (r / "src" / "out").symlink_to(outside)
    (r / "src" / "dangling_out").symlink_to(tmp_path / "nowhere" / "x")
    (r / "src" / "loop_a").symlink_to("loop_b")
    (r / "src" / "loop_b").symlink_to("loop_a")
    (tmp_path / "repo_link").symlink_to(r)
    return r


def _write(path: str, root: Path | str, cwd: str | None = None) -> PathFact:
    facts = normalise(Action(kind="file_write", tool="write", path=path, cwd=cwd), root=str(root))
    (fact,) = facts.paths
    assert fact.access == "write" and fact.via == "tool"
    return fact


CASES = [
    # (path as written, expected relative path or None for outside, exists)
    pytest.param("src/a.py", "src/a.py", False, id="plain-new-file"),
    pytest.param("src//a.py", "src/a.py", False, id="repeated-slashes"),
    pytest.param("./src/./a.py", "src/a.py", False, id="dot-segments"),
    pytest.param("src/../tests/t.py", "tests/t.py", True, id="dotdot-inside"),
    pytest.param("src/../../x", None, False, id="dotdot-escapes"),
    pytest.param("src/new/deep/file.py", "src/new/deep/file.py", False, id="missing-tail"),
    pytest.param("src/nope/../a.py", "src/a.py", False, id="dotdot-after-missing"),
    pytest.param("src/to_tests/t.py", "tests/t.py", True, id="symlink-into-tests"),
    pytest.param("src/to_tests/new.py", "tests/new.py", False, id="symlink-new-file"),
    pytest.param("src/to_sub/../t.py", "tests/t.py", True, id="symlink-then-dotdot-is-physical"),
    pytest.param("src/out/x", None, False, id="symlink-out"),
    pytest.param("src/dangling_out", None, False, id="dangling-link-out"),
    pytest.param("src/loop_a/x", None, False, id="symlink-loop"),
    pytest.param("~/.bashrc", None, None, id="home"),
    pytest.param("/etc/passwd", None, True, id="absolute-out"),
    pytest.param("", ".", True, id="empty-is-base"),
    pytest.param(".", ".", True, id="root-itself"),
]


@pytest.mark.parametrize(("raw", "relative", "exists"), CASES)
def test_tool_paths_resolve(root: Path, raw: str, relative: str | None, exists: bool | None) -> None:
    fact = _write(raw, root)
    assert fact.relative == relative
    assert fact.inside_root is (relative is not None)
    assert fact.resolved.startswith("/")
    if exists is not None:
        assert fact.exists is exists
    if relative is not None:
        assert fact.resolved == os.path.join(str(root), relative).rstrip("/.") or fact.resolved == str(root)


def test_absolute_path_inside_root(root: Path) -> None:
    assert _write(str(root / "src" / "x.py"), root).relative == "src/x.py"


def test_absolute_path_through_a_symlinked_root(root: Path) -> None:
    link = root.parent / "repo_link"
    assert _write(str(link / "src" / "x.py"), root).relative == "src/x.py"
    assert _write(str(root / "src" / "x.py"), link).relative == "src/x.py"


def test_root_given_through_a_symlink_is_resolved(root: Path) -> None:
    facts = normalise(
        Action(kind="file_read", tool="read", path="src/a.py"), root=str(root.parent / "repo_link")
    )
    assert facts.root == str(root)
    assert facts.paths[0].relative == "src/a.py"


def test_relative_paths_start_at_the_action_cwd(root: Path) -> None:
    assert _write("a.py", root, cwd=str(root / "src")).relative == "src/a.py"
    assert _write("../x", root, cwd=str(root / "src")).relative == "x"


def test_relative_root_resolves_against_the_action_cwd(root: Path) -> None:
    facts = normalise(Action(kind="file_read", tool="read", path="tests/t.py", cwd=str(root)), root=".")
    assert facts.root == str(root)
    assert facts.paths[0].relative == "tests/t.py"


def test_home_is_expanded(root: Path) -> None:
    fact = _write("~/.ssh/id_rsa", root)
    assert fact.resolved == os.path.join(HOME, ".ssh/id_rsa") or fact.resolved.startswith(HOME)
    assert not fact.inside_root


def test_no_root_means_nothing_is_inside(root: Path) -> None:
    facts = normalise(Action(kind="file_write", tool="write", path="a.py", cwd=str(root)))
    assert facts.root is None
    assert facts.paths[0].resolved == str(root / "a.py")
    assert not facts.paths[0].inside_root
    assert facts.paths[0].relative is None


def test_shell_write_through_a_symlink_lands_in_tests(root: Path) -> None:
    facts = normalise(Action(kind="shell", tool="bash", command="echo x > src/to_tests/t.py"), root=str(root))
    assert [(p.access, p.relative) for p in facts.paths] == [("write", "tests/t.py")]


def test_shell_cd_into_a_symlink_then_relative_write(root: Path) -> None:
    facts = normalise(
        Action(kind="shell", tool="bash", command="cd src/to_tests && touch new.py"), root=str(root)
    )
    assert [(p.access, p.relative) for p in facts.paths] == [("write", "tests/new.py")]


def test_shell_cd_logical_dotdot_then_physical_resolution(root: Path) -> None:
    # bash's cd is logical: src/to_sub/.. is src; a relative path from there is below src.
    facts = normalise(
        Action(kind="shell", tool="bash", command="cd src/to_sub/.. && touch y"), root=str(root)
    )
    assert [p.relative for p in facts.paths] == ["src/y"]


def test_glob_that_can_match_dotdot_is_outside(root: Path) -> None:
    facts = normalise(Action(kind="shell", tool="bash", command="rm -rf .*"), root=str(root))
    assert facts.paths[0].glob
    assert not facts.paths[0].inside_root


def test_nul_bytes_never_count_as_inside(root: Path) -> None:
    fact = _write("src/a\x00.py", root)
    assert not fact.inside_root
    assert fact.dynamic


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param("rm src/to_tests", ("delete", "src/to_tests"), id="rm-link-deletes-the-link"),
        pytest.param("rm -rf src/to_tests/", ("delete", "tests"), id="trailing-slash-follows"),
        pytest.param("mv src/out src/renamed", ("delete", "src/out"), id="mv-link-moves-the-link"),
        pytest.param("rm src/dangling_out", ("delete", "src/dangling_out"), id="rm-dangling-link"),
        pytest.param("echo x > src/out/f", ("write", None), id="write-follows-link-out"),
    ],
)
def test_deletes_act_on_the_link_itself(root: Path, command: str, expected: tuple[str, str | None]) -> None:
    facts = normalise(Action(kind="shell", tool="bash", command=command), root=str(root))
    assert expected in {(p.access, p.relative) for p in facts.paths}


def test_find_delete_under_a_dir_with_links_stays_inside(root: Path) -> None:
    facts = normalise(
        Action(kind="shell", tool="bash", command="find src -name '*.pyc' -delete"), root=str(root)
    )
    deletes = [p for p in facts.paths if p.access == "delete"]
    assert deletes and all(p.inside_root and p.relative and p.relative.startswith("src") for p in deletes)
