"""The effect model holds whatever the spelling: quoting, option order, abbreviations, env prefixes."""

from __future__ import annotations

import shlex

from hypothesis import given, settings
from hypothesis import strategies as st

from agentguard.normalise._effects import risky_variable
from agentguard.normalise._shell import Analysis, analyse_uncached


def _analyse(command: str) -> Analysis:
    return analyse_uncached(command, "/repo", "/home/me")


def _quote(word: str, how: int) -> str:
    """One of several shell spellings of ``word``."""
    if how == 0:
        return word
    if how == 1:
        return shlex.quote(word) if word.isalnum() is False else f"'{word}'"
    if how == 2:
        return f'"{word}"'
    if how == 3:
        return "".join(f"\\{c}" if c.isalnum() else c for c in word)
    half = len(word) // 2
    return f"{word[:half]}''{word[half:]}"


spellings = st.integers(0, 4)
safe_env = st.lists(
    st.sampled_from(["FOO=1", "LANG=C", "TZ=UTC", "CI=true", "GIT_AUTHOR_NAME=x"]), max_size=3, unique=True
)


OPTION_SPELLINGS = [
    "'--to-command=rm -rf /home/me'",
    '"--to-command=rm -rf /home/me"',
    "--to-command='rm -rf /home/me'",
    "--to-command 'rm -rf /home/me'",
    "--to-command=rm\\ -rf\\ /home/me",
    "--to-comm='rm -rf /home/me'",
    "--to-command=$'rm -rf /home/me'",
]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(OPTION_SPELLINGS), safe_env, st.booleans())
def test_a_command_carried_by_an_option_is_seen_in_any_spelling(
    option: str, env: list[str], option_first: bool
) -> None:
    args = [option, "-xf", "a.tar"] if option_first else ["-xf", "a.tar", option]
    a = _analyse(" ".join([*env, "tar", *args]))
    assert "rm" in {c.program for c in a.commands}
    assert any(r.access == "delete" and r.raw == "/home/me" for r in a.refs)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["--force", "--force-with-lease", "--mirror", "--delete"]), st.data())
def test_git_push_abbreviations_are_what_they_abbreviate(option: str, data: st.DataObject) -> None:
    prefix = option[: data.draw(st.integers(4, len(option)))]  # "--" and two letters at least
    push = _analyse(f"git push {prefix} origin main").git[0]
    assert push.delete if option == "--delete" else push.force


@settings(max_examples=40, deadline=None)
@given(spellings, safe_env, st.sampled_from(["/dev/stdin", "/proc/self/fd/0", "-", "/dev/fd/0"]))
def test_a_script_on_standard_input_is_analysed_as_the_script(q: int, env: list[str], name: str) -> None:
    shell = _quote("bash", q)
    a = _analyse(" ".join([*env, shell, name]) + " <<'EOF'\ngit push --force\nEOF")
    assert any(g.force for g in a.git)


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(
        ["LD_PRELOAD", "BASH_ENV", "PAGER", "LESSOPEN", "GIT_SSH_COMMAND", "GIT_DIR", "BASH_FUNC_ls%%"]
    ),
    safe_env,
    st.sampled_from(["export {a}", "{a} git status", "env {a} git status", "sudo {a} git status"]),
)
def test_environment_that_changes_what_runs_is_opaque_in_any_position(
    name: str, env: list[str], shape: str
) -> None:
    assignment = f"{name}=./x"
    command = (
        " ".join([*env, shape.format(a=assignment)])
        if not shape.startswith("export")
        else shape.format(a=assignment)
    )
    assert _analyse(command).reasons, command


@given(st.sampled_from(["/usr/bin/git", "$HOME/.local/bin", "~/.cargo/bin", "$PWD/.venv/bin"]))
def test_path_prepends_of_fixed_directories_are_not_risky(directory: str) -> None:
    assert risky_variable("PATH", f"{directory}:$PATH") is None
    assert risky_variable("PATH", f"./bin:{directory}:$PATH") is not None
    assert risky_variable("PATH", f"{directory}:/tmp/x:$PATH") is not None


@settings(max_examples=40, deadline=None)
@given(spellings, st.sampled_from(["r[m]", "r?", "[r]m", "r*"]))
def test_a_glob_in_the_command_name_is_opaque_and_read_as_what_it_may_match(q: int, name: str) -> None:
    a = _analyse(f"/bin/{name} -rf /home/me")
    assert any("glob" in r for r in a.reasons)
    assert "rm" in {c.program for c in a.commands}
