"""Hypothesis: the normaliser never raises, and a path fact is inside the root only when it really is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentguard.action import Action
from agentguard.normalise import Facts, action_from_tool_call, normalise, parse_url

SHELLISH = st.text(
    alphabet=st.sampled_from(list(" \t\n;&|<>(){}[]$`'\"\\*?~#=!-_./:@,+%^0123456789abcdefghijklmnrstxyzC")),
    max_size=120,
)
# fmt: off
_TOKENS = [
    "rm", "-rf", "~", "/", "..", ".env", "src", "cd", "&&", ";", "|", "||", "sh", "-c", "bash", "eval",
    "'rm -rf ~'", '"$X"', "$(id)", "<(cat x)", "<<<", "<<EOF\nrm x\nEOF\n", ">", ">>", "2>&1", "sudo",
    "env", "A=1", "xargs", "git", "push", "-f", "+main", "-C", "python3", "-c", "'open(\".env\")'",
    "curl", "http://0x7f000001/", "base64", "-d", "find", "-exec", "{}", "\\;", "{a,b}", "*", "$'\\x72'",
    "timeout", "5", "nice", "tee", "dd", "of=/x", "{", "}", "(", ")", "`", "\\", "#",
]
# fmt: on
WORDS = st.lists(st.sampled_from(_TOKENS), max_size=14).map(" ".join)
PATHS = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.sampled_from(["src", "..", ".", "", "to_out", "to_src", "loop", "~", "x", "/", "*", ".*"]),
        max_size=8,
    ).map("/".join),
)

SETTINGS = settings(
    max_examples=int(os.environ.get("NORMALISE_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("fuzz")
    r = base / "repo"
    (r / "src").mkdir(parents=True)
    (base / "out").mkdir()
    (r / "to_out").symlink_to(base / "out")
    (r / "src" / "to_src").symlink_to("..")
    (r / "loop").symlink_to("loop")
    return os.path.realpath(r)


def _invariants(facts: Facts, root: str) -> None:
    assert facts.root == root
    for p in facts.paths:
        assert p.resolved.startswith("/")
        if p.inside_root:
            real = os.path.realpath(p.resolved)
            if p.access == "delete" and p.resolved != root:  # a delete acts on a final symlink itself
                head, tail = os.path.split(p.resolved)
                real = os.path.join(os.path.realpath(head), tail)
            assert real == root or real.startswith(root + "/"), p
            assert not p.dynamic
            assert p.relative is not None and p.relative != ".." and not p.relative.startswith("../"), p
        else:
            assert p.relative is None
    for u in facts.urls:
        assert u.host == u.host.lower() or u.ip is not None
        assert "@" not in u.host
    if facts.opaque:
        assert facts.reasons
    facts.as_dict()


@SETTINGS
@given(command=st.one_of(SHELLISH, WORDS, st.text(max_size=200)))
def test_shell_never_raises_and_keeps_the_invariant(root: str, command: str) -> None:
    facts = normalise(Action(kind="shell", tool="bash", command=command), root=root)
    _invariants(facts, root)


@SETTINGS
@given(path=PATHS, cwd=st.one_of(st.none(), st.just("src"), st.just("/"), st.text(max_size=20)))
def test_paths_inside_only_when_really_inside(root: str, path: str, cwd: str | None) -> None:
    cwd_abs = cwd if cwd is None or cwd.startswith("/") else os.path.join(root, cwd)
    facts = normalise(Action(kind="file_write", tool="write", path=path, cwd=cwd_abs), root=root)
    _invariants(facts, root)
    assert len(facts.paths) == 1


@SETTINGS
@given(
    url=st.one_of(
        st.text(max_size=80), st.from_regex(r"[a-z]{2,5}://[^\s/]{0,30}(/.{0,10})?", fullmatch=True)
    )
)
def test_urls_never_raise(url: str) -> None:
    parse_url(url)
    normalise(Action(kind="network", tool="fetch", url=url))


@SETTINGS
@given(
    tool=st.sampled_from(
        ["Bash", "Write", "Edit", "apply_patch", "shell", "read_multiple_files", "move_file", "Glob", "x"]
    ),
    arguments=st.dictionaries(
        st.sampled_from(
            ["command", "file_path", "path", "paths", "input", "source", "destination", "pattern", "url"]
        ),
        st.one_of(st.text(max_size=40), st.lists(st.text(max_size=10), max_size=3), st.integers(), st.none()),
    ),
)
def test_tool_calls_never_raise(root: str, tool: str, arguments: dict[str, object]) -> None:
    facts = normalise(action_from_tool_call(tool, arguments, cwd=root), root=root)
    _invariants(facts, root)


@pytest.mark.parametrize("name", ["..0", "...", "..hidden"])
def test_names_that_begin_with_two_dots_are_inside_the_root(root: str, name: str) -> None:
    facts = normalise(action_from_tool_call("Write", {"file_path": name}, cwd=root), root=root)
    (path,) = facts.paths
    assert path.inside_root and path.relative == name
    _invariants(facts, root)


def test_fuzz_root_fixture_has_links(root: str) -> None:
    assert Path(root, "to_out").is_symlink()


# tree-sitter-bash#337: '{' then a 4-byte UTF-8 character can SIGSEGV the parser (memory-layout luck).
CRASHERS = ["{\U00031860", "{\U000e969b", "a;{\U000e969b", "\nx\n{\U000e969b\U0001f600", "{\U000e969b (}|"]


@pytest.mark.parametrize("seed", range(4))
def test_inputs_that_crash_the_grammar_are_neutralised(seed: int) -> None:
    """Run in a child process: unguarded, about half of these runs die with SIGSEGV."""
    import subprocess
    import sys

    code = (
        "import random\n"
        "from agentguard.action import Action\n"
        "from agentguard.normalise import _parser, normalise\n"
        f"cases = {CRASHERS!r}\n"
        f"rnd = random.Random({seed})\n"
        "alphabet = ['{', '}', ' ', ';', '|', 'a', '(', '\\n', '\\U000e969b', '\\U0001f600', 'é']\n"
        "cases += [''.join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 8))) for _ in range(40000)]\n"
        "for c in cases:\n"
        "    _parser.parse(c.encode())\n"
        "for c in cases[:200]:\n"
        "    normalise(Action(kind='shell', tool='bash', command=c), root='/')\n"
        "print('survived')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "survived" in done.stdout


def test_astral_characters_keep_their_values(root: str) -> None:
    facts = normalise(Action(kind="shell", tool="bash", command="{ echo 🎉 > src/🎉.txt; }"), root=root)
    assert [p.relative for p in facts.paths] == ["src/🎉.txt"]
