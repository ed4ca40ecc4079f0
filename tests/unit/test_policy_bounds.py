"""Analysis time is bounded and grows linearly: adversarial inputs measured as ratios, never as
wall-clock limits.

Each input is timed at two sizes (best of a few runs, each a command never seen before, so the
analysis cache never answers); four times the size may take at most ten times as long (linear work
takes four times, quadratic sixteen; the margin is for a busy machine). Inputs beyond the analysis
limits are not analysed at all; what is left of their cost is linear.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import agentguard as ag
from agentguard.normalise import bounded_glob
from agentguard.policy import Policy, rules

_serial = itertools.count()


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    (tmp_path / "src").mkdir()
    return Policy(
        scope=ag.Scope(root=str(tmp_path), write=["src/**"], read=["**"], hosts=["pypi.org"]),
        rules=[
            rules.destructive_commands(),
            rules.secrets(),
            rules.protect([".git/**"]),
            rules.no_agent_spawn(),
        ],
    )


def _best(run: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _time_command(policy: Policy, root: Path, make: Callable[[int], str], size: int) -> float:
    body = make(size)
    times = []
    for _ in range(5):
        action = ag.Action(kind="shell", tool="bash", cwd=str(root), command=f"{body} # {next(_serial)}")
        start = time.perf_counter()
        policy.check(action)
        times.append(time.perf_counter() - start)
    return min(times)


def _time_pair(
    policy: Policy, root: Path, make: Callable[[int], str], small: int, large: int
) -> tuple[float, float]:
    """Both sizes timed in turns (seven each, best kept), so a busy phase of the machine hits both."""
    bodies = (make(small), make(large))
    best = [float("inf"), float("inf")]
    for _ in range(7):
        for i, body in enumerate(bodies):
            action = ag.Action(kind="shell", tool="bash", cwd=str(root), command=f"{body} # {next(_serial)}")
            start = time.perf_counter()
            policy.check(action)
            best[i] = min(best[i], time.perf_counter() - start)
    return best[0], best[1]


SHAPES: dict[str, Callable[[int], str]] = {
    "words": lambda n: "echo " + "ab " * (n // 3),
    "variables": lambda n: "echo " + "$a" * (n // 2),
    "pipeline": lambda n: "true" + " | cat" * (n // 6),
    "list": lambda n: "true" + " && ls" * (n // 6),
    "substitutions": lambda n: "echo " + "$(true) " * (n // 8),
    "quoted": lambda n: "echo '" + "x" * n + "'",
    "slashes": lambda n: "cat " + "/" * n,
    "dotdots": lambda n: "cat " + "../" * (n // 3),
    "option-soup": lambda n: "tar " + "--to-com " * (n // 9),
    "fork-bomb-prefix": lambda n: "f(){ " + "a" * n,
    "dynamic-host": lambda n: "dig " + "$a" * (n // 2) + ".x.org",
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_analysis_time_grows_linearly_with_the_command(policy: Policy, tmp_path: Path, shape: str) -> None:
    make = SHAPES[shape]
    plain = _time_command(policy, tmp_path, lambda n: "ls src", 0)
    small, large = _time_pair(policy, tmp_path, make, 6_000, 24_000)
    ratio = large / small
    # below twenty plain commands' time there is nothing to grow (and timer noise dominates)
    assert ratio < 10.0 or large < 20 * plain, (
        f"{shape}: 24 KB took {large * 1e3:.1f} ms, 6 KB {small * 1e3:.1f} ms ({ratio:.2f}x)"
    )


@pytest.mark.parametrize("shape", ["words", "variables", "quoted"])
def test_commands_beyond_the_limit_cost_no_more_than_the_limit(
    policy: Policy, tmp_path: Path, shape: str
) -> None:
    make = SHAPES[shape]
    beyond = _time_command(policy, tmp_path, make, 100_000)
    ten_times = _time_command(policy, tmp_path, make, 1_000_000)
    # what remains is linear (hashing, substring tests): ten times the size, at most twenty times the
    # time, where a quadratic step would take a hundred
    assert ten_times / beyond < 20.0, (
        f"{shape}: 1 MB {ten_times * 1e3:.1f} ms vs 100 KB {beyond * 1e3:.1f} ms"
    )
    decision = policy.check(ag.Action(kind="shell", tool="bash", cwd=str(tmp_path), command=make(600_000)))
    assert decision.outcome != "allow"


def test_path_resolution_grows_linearly(policy: Policy, tmp_path: Path) -> None:
    def timed(size: int) -> float:
        return _best(
            lambda: policy.check(
                ag.Action(
                    kind="file_write",
                    tool="write",
                    cwd=str(tmp_path),
                    path="src/" + "a/" * size + str(next(_serial)),
                )
            )
        )

    small, large = timed(250_000), timed(500_000)
    assert large / small < 3.0, f"1 MB path {large * 1e3:.1f} ms, 0.5 MB {small * 1e3:.1f} ms"
    long_write = ag.Action(kind="file_write", tool="write", cwd=str(tmp_path), path="src/" + "a/" * 500_000)
    assert policy.check(long_write).outcome != "allow"  # the kernel refuses it; never silently allowed


@pytest.mark.parametrize(
    "pattern",
    [
        "/*/*/*/*/*/*/*",
        "/proc/*/root/proc/*/root/proc/*/root/etc/*",
        "/*/*/.ssh/*",
        "/usr/*/*/*/*/*/*/nothing*",
    ],
)
def test_globs_are_never_walked_from_the_root_or_past_the_entry_budget(pattern: str, policy: Policy) -> None:
    found, complete = bounded_glob(pattern, 1000, entries=512)
    assert len(found) <= 1000
    if pattern.startswith("/*"):
        assert (found, complete) == ([], False)
    decision = policy.check(ag.Action(kind="shell", tool="bash", command=f"cat {pattern}"))
    assert decision.outcome != "allow"


def test_bounded_glob_lists_what_the_shell_would(tmp_path: Path) -> None:
    for name in ("a.py", "b.py", ".hidden.py", "c.txt"):
        (tmp_path / name).write_text("")
    found, complete = bounded_glob(f"{tmp_path}/*.py", 10)
    assert complete
    assert sorted(found) == [f"{tmp_path}/a.py", f"{tmp_path}/b.py"]
    hidden, _ = bounded_glob(f"{tmp_path}/.*.py", 10)
    assert hidden == [f"{tmp_path}/.hidden.py"]
