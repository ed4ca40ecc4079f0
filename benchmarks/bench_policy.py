"""Policy decision time: agentguard's ``Policy.check`` beside pycasbin and cedarpy, in one run.

Three actions, each decided by a 50-rule and a 1,000-rule policy of each engine:

- ``file``: a file write, ``src/pkg/parser.py`` in a scratch repository (it exists, so agentguard
  resolves it through the file system as it always does);
- ``shell``: the 62-character ``cd src && git add -A && git commit -m "fix parser" && pytest -q``,
  measured three times: ``cold``, every call a command never seen before (same shape, a different
  commit message, so the analysis cache misses: what an agent sends; a plain list, which the
  normaliser splits without tree-sitter), ``cold, piped``, the same with ``| tee log.txt`` for the
  last command (not plain: the tree-sitter route; held to the same target, on its own line), and
  ``warm``, the same command repeated (the analysis cache hits);
- ``url``: a fetch of ``https://pypi.org/simple/requests/``.

The agentguard policies are what a large real policy looks like: a ``Scope`` (four rules), the
built-ins (``destructive_commands``, ``secrets``, ``protect``, ``no_agent_spawn``, ``budget``,
``tools``, ``models``) and user rules spread evenly over file writes, file reads, shell, network and
LLM calls (a path glob, a program, a host or a model each; none matches the benchmark's actions). Like
casbin's policy rows or Cedar's policies, a large policy is mostly data: of the user rules, 95% are
declarative (``rules.match(...)``, which the policy indexes) and one in twenty is a plain callable that
declares ``kinds`` (the same test written as code), at both sizes. The header prints the composition.
Each decision gets a fresh ``Action``, as every tool call does, so facts are derived every time.

The others decide the equivalent request with the same number of policies, from strings (neither
resolves paths nor parses shell):

- pycasbin: an ABAC model ``r.sub == p.sub && r.act == p.act && regexMatch(r.obj, p.obj)`` with
  allow and deny effects, the globs translated to regexes once, in a ``FastEnforcer`` that filters
  the policy lines by subject and action (casbin's fastest set-up here); the file path, the command
  text or the URL is the object;
- cedarpy: ``permit``/``forbid`` policies on ``action`` with a ``context.target like "..."`` condition,
  the policy set and (empty) entities parsed once into handles.

Times are per decision, each call timed on its own (``perf_counter_ns``, GC paused), the cases of both
policy sizes taking turns in blocks; p50 and p90 over every call.

    python -m benchmarks.bench_policy [--calls N] [--repeats N]
"""

from __future__ import annotations

import argparse
import fnmatch
import gc
import importlib.metadata
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import agentguard as ag
from agentguard.policy import facts_of

TURNS = 40
SLICE_MS = 25.0
SIZES = (50, 1_000)
FILE_TARGET = 0.5  # agentguard / casbin, file action
SCALE_TARGET = 3.0  # 1,000 rules / 50 rules
SHELL_TARGET_US = 100.0

FILE_PATH = "src/pkg/parser.py"
SHELL = 'cd src && git add -A && git commit -m "fix parser" && pytest -q'
URL = "https://pypi.org/simple/requests/"
KINDS = ("file_write", "file_read", "shell", "network", "llm")


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def cold_command(tag: str, i: int) -> str:
    """A command of :data:`SHELL`'s shape and length never seen before (a new commit message)."""
    return f'cd src && git add -A && git commit -m "fix {tag}{i:06d}" && pytest -q'


def cold_piped_command(tag: str, i: int) -> str:
    """As :func:`cold_command`, with a pipe: not a plain list, so it takes the tree-sitter parser."""
    return f'cd src && git add -A && git commit -m "fix {tag}{i:06d}" | tee log.txt'


CALLABLE_EVERY = 20
"""One user rule in this many is a plain callable; the others are declarative (``rules.match``)."""


# -- agentguard -----------------------------------------------------------------------------------
def _user_rule(i: int) -> ag.Rule:
    """One generated user rule, kinds taken in turn: declarative, or every :data:`CALLABLE_EVERY`-th
    a plain function with ``kinds`` (and an id) that tests the same thing."""
    kind = KINDS[i % len(KINDS)]
    rid = f"user.{kind}.{i}"
    if i % CALLABLE_EVERY != CALLABLE_EVERY - 1:
        return _declarative_rule(i, kind, rid)
    return _callable_rule(i, kind, rid)


def _declarative_rule(i: int, kind: str, rid: str) -> ag.Rule:
    if kind in ("file_write", "file_read"):
        access: ag.rules.PathAccess = "write" if kind == "file_write" else "read"
        return ag.rules.match(decision="deny", path=f"generated/m{i}/**", access=access, rule_id=rid)
    if kind == "shell":
        return ag.rules.match(decision="deny", program=f"tool{i}", rule_id=rid)
    if kind == "network":
        return ag.rules.match(decision="deny", host=f"h{i}.example.net", rule_id=rid)
    return ag.rules.match(
        decision="deny", model=f"model-{i}", reason=f"model model-{i} is retired", rule_id=rid
    )


def _callable_rule(i: int, kind: str, rid: str) -> ag.Rule:
    if kind in ("file_write", "file_read"):
        prefix = f"generated/m{i}/"
        access = "write" if kind == "file_write" else "read"

        def rule(action: ag.Action, run: ag.RunState | None) -> ag.Decision | None:
            for p in facts_of(action).paths:
                if p.access == access and p.relative is not None and p.relative.startswith(prefix):
                    return ag.Decision.deny(f"{access}s under {prefix}", rule_id=rid)
            return None

    elif kind == "shell":
        program = f"tool{i}"

        def rule(action: ag.Action, run: ag.RunState | None) -> ag.Decision | None:
            shell = facts_of(action).shell
            if shell is not None:
                for c in shell.commands:
                    if c.program == program:
                        return ag.Decision.deny(f"runs {program}", rule_id=rid)
            return None

    elif kind == "network":
        host = f"h{i}.example.net"

        def rule(action: ag.Action, run: ag.RunState | None) -> ag.Decision | None:
            for u in facts_of(action).urls:
                if u.host == host:
                    return ag.Decision.deny(f"reaches {host}", rule_id=rid)
            return None

    else:
        model = f"model-{i}"

        def rule(action: ag.Action, run: ag.RunState | None) -> ag.Decision | None:
            if action.model == model:
                return ag.Decision.deny(f"model {model} is retired", rule_id=rid)
            return None

    rule.kinds = frozenset({kind})  # type: ignore[attr-defined]
    rule.rule_id = rid  # type: ignore[attr-defined]
    return rule


def agentguard_policy(size: int, root: str) -> tuple[ag.Policy, int]:
    """A policy of ``size`` rules in all (scope and built-ins included) and how many are user rules."""
    builtin: list[ag.Rule] = [
        ag.rules.destructive_commands(),
        ag.rules.secrets(),
        ag.rules.protect(["agentguard_policy.py", ".git/**", "CODEOWNERS"]),
        ag.rules.no_agent_spawn(),
        ag.rules.budget(usd=5.0),
        ag.rules.tools(deny=["delete_*", "drop_*"]),
        ag.rules.models(allow=["gpt-4.1*", "model-*"]),
    ]
    scope = ag.Scope(
        root=root,
        read=["**"],
        write=["src/**", "tests/**", "docs/**", "*.md"],
        hosts=["pypi.org", "files.pythonhosted.org", "github.com"],
    )
    n_user = size - 4 - len(builtin)
    policy = ag.Policy(scope=scope, rules=[*builtin, *(_user_rule(i) for i in range(n_user))])
    assert len(policy.rule_ids) == size, (len(policy.rule_ids), size)
    return policy, n_user


def composition(policy: ag.Policy) -> str:
    """How a generated policy is made: scope, built-ins, declarative and callable user rules."""
    user = [r for r in policy.rules if str(getattr(r, "rule_id", "")).startswith("user.")]
    declarative = sum(isinstance(r, ag.rules.Match) for r in user)
    n_builtin = len(policy.rules) - len(user)
    return (
        f"{len(policy.rule_ids)} rules = 4 scope + {n_builtin} built-in + {declarative} rules.match "
        f"(declarative, indexed) + {len(user) - declarative} callables (kinds declared); declarative "
        f"{declarative / len(policy.rule_ids):.0%} of all, "
        f"{declarative / max(1, len(user)):.0%} of user rules"
    )


def scratch_repo() -> str:
    root = tempfile.mkdtemp(prefix="agentguard-bench-")
    for d in ("src/pkg", "tests", "docs", ".git"):
        os.makedirs(os.path.join(root, d))
    for f in ("src/pkg/__init__.py", FILE_PATH, "tests/test_parser.py", "README.md"):
        Path(root, f).write_text("x = 1\n")
    return os.path.realpath(root)


# -- casbin and cedar -----------------------------------------------------------------------------
CASBIN_MODEL = """
[request_definition]
r = sub, act, obj

[policy_definition]
p = sub, act, obj, eft

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = r.sub == p.sub && r.act == p.act && regexMatch(r.obj, p.obj)
"""

# the same rules as agentguard's scope and built-ins, as (act, glob, effect)
_BASE_LINES = (
    ("write", "src/*", "allow"),
    ("write", "src/**", "allow"),
    ("write", "tests/**", "allow"),
    ("write", "docs/**", "allow"),
    ("write", "*.md", "allow"),
    ("write", ".git/**", "deny"),
    ("write", "agentguard_policy.py", "deny"),
    ("read", "**", "allow"),
    ("read", "*.env", "deny"),
    ("exec", "*", "allow"),
    ("exec", "*git push -f*", "deny"),
    ("exec", "*rm -rf /*", "deny"),
    ("fetch", "https://pypi.org/*", "allow"),
    ("fetch", "https://github.com/*", "allow"),
)
_ACTS = {"file_write": "write", "file_read": "read", "shell": "exec", "network": "fetch", "llm": "llm"}


def _generated_lines(size: int) -> list[tuple[str, str, str]]:
    lines = list(_BASE_LINES)
    for i in itertools.count():
        if len(lines) >= size:
            break
        kind = KINDS[i % len(KINDS)]
        target = {
            "file_write": f"generated/m{i}/**",
            "file_read": f"generated/m{i}/**",
            "shell": f"*tool{i} *",
            "network": f"https://h{i}.example.net/*",
            "llm": f"model-{i}",
        }[kind]
        lines.append((_ACTS[kind], target, "deny"))
    return lines


def casbin_enforcer(size: int, workdir: str) -> Any:
    """pycasbin at its fastest here: ``FastEnforcer`` filtering policies by (sub, act), ``regexMatch``
    on patterns translated once (``globMatch`` goes through wcmatch per line: about 4x slower)."""
    from casbin.fast_enforcer import FastEnforcer

    model = os.path.join(workdir, "casbin_model.conf")
    Path(model).write_text(CASBIN_MODEL)
    enforcer = FastEnforcer(model, cache_key_order=[0, 1])
    enforcer.add_policies(
        [["agent", act, fnmatch.translate(obj), eft] for act, obj, eft in _generated_lines(size)]
    )
    return enforcer


def cedar_policies(size: int) -> Any:
    import cedarpy

    text = []
    for act, target, eft in _generated_lines(size):
        effect = "permit" if eft == "allow" else "forbid"
        like = target.replace("**", "*")
        text.append(
            f'{effect}(principal == Agent::"agent", action == Action::"{act}", resource) '
            f'when {{ context.target like "{like}" }};'
        )
    return cedarpy.PolicySet.from_str("\n".join(text)), cedarpy.Entities.from_json_str("[]")


def cedar_request(act: str, target: str) -> dict[str, Any]:
    return {
        "principal": 'Agent::"agent"',
        "action": f'Action::"{act}"',
        "resource": 'Target::"t"',
        "context": {"target": target},
    }


# -- timing ---------------------------------------------------------------------------------------
Case = Callable[[], Callable[[], object]]
"""Makes the next call to time (built outside the timed region: a fresh action, a new command)."""


def timed_slice(make: Case, budget_ns: int) -> list[float]:
    """Time calls one by one for about ``budget_ns`` (at least one call); µs per call."""
    out: list[float] = []
    clock = time.perf_counter_ns
    gc.disable()
    try:
        end = clock() + budget_ns
        while True:
            call = make()
            t0 = clock()
            call()
            t1 = clock()
            out.append((t1 - t0) / 1000)
            if t1 >= end:
                break
    finally:
        gc.enable()
    return out


def measure(cases: dict[str, Case], turns: int, slice_ms: float) -> dict[str, list[float]]:
    """Each case runs for ``slice_ms`` in turn, ``turns`` times (slow phases of a busy machine hit
    every case alike; a slow engine gets fewer calls, never less time)."""
    budget = int(slice_ms * 1e6)
    for make in cases.values():  # warm up
        timed_slice(make, budget)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(turns):
        for name, make in cases.items():
            samples[name].extend(timed_slice(make, budget))
    return samples


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Row:
    p50: float
    p90: float


def rows(samples: dict[str, list[float]]) -> dict[str, Row]:
    return {name: Row(statistics.median(v), pct(v, 0.9)) for name, v in samples.items()}


def build_cases(size: int, root: str) -> tuple[dict[str, Case], list[str]]:
    """Every case of one policy size, and check lines (each engine's decision on each action)."""
    policy, _ = agentguard_policy(size, root)
    serial = itertools.count()
    checks: list[str] = []

    def ag_case(kind: str, tool: str, **fields: str) -> Case:
        def make() -> Callable[[], object]:
            action = ag.Action(kind=kind, tool=tool, cwd=root, **fields)  # type: ignore[arg-type]
            return lambda: policy.check(action)

        return make

    def ag_cold() -> Callable[[], object]:
        command = cold_command(f"s{size}-", next(serial))
        action = ag.Action(kind="shell", tool="Bash", cwd=root, command=command)
        return lambda: policy.check(action)

    def ag_cold_piped() -> Callable[[], object]:
        command = cold_piped_command(f"s{size}-", next(serial))
        action = ag.Action(kind="shell", tool="Bash", cwd=root, command=command)
        return lambda: policy.check(action)

    cases: dict[str, Case] = {
        "agentguard file": ag_case("file_write", "Write", path=FILE_PATH, content="x = 2\n"),
        "agentguard shell cold": ag_cold,
        "agentguard shell cold piped": ag_cold_piped,
        "agentguard shell warm": ag_case("shell", "Bash", command=SHELL),
        "agentguard url": ag_case("network", "WebFetch", url=URL),
    }
    for name in ("agentguard file", "agentguard shell warm", "agentguard url"):
        d = cases[name]()()
        checks.append(f"{name} ({size} rules): {d.summary()}")  # type: ignore[attr-defined]
    d = policy.check(ag.Action(kind="shell", tool="Bash", cwd=root, command=cold_command("check", 0)))
    checks.append(f"agentguard shell cold ({size} rules): {d.summary()}")

    requests = {"file": ("write", FILE_PATH), "shell": ("exec", SHELL), "url": ("fetch", URL)}
    try:
        enforcer = casbin_enforcer(size, root)
    except ImportError as exc:
        checks.append(f"casbin not measured: {exc}")
    else:
        for what, (act, obj) in requests.items():
            checks.append(f"casbin {what} ({size} rules): allowed={enforcer.enforce('agent', act, obj)}")

            def make_casbin(act: str = act, obj: str = obj) -> Callable[[], object]:
                return lambda: enforcer.enforce("agent", act, obj)

            cases[f"casbin {what}"] = make_casbin
    try:
        import cedarpy

        policies, entities = cedar_policies(size)
    except ImportError as exc:
        checks.append(f"cedarpy not measured: {exc}")
    else:
        for what, (act, obj) in requests.items():
            req = cedar_request(act, obj)
            res = cedarpy.is_authorized(req, policies, entities)
            checks.append(f"cedarpy {what} ({size} rules): allowed={res.allowed}")

            def make_cedar(req: dict[str, Any] = req) -> Callable[[], object]:
                return lambda: cedarpy.is_authorized(req, policies, entities)

            cases[f"cedarpy {what}"] = make_cedar
    return cases, checks


def _fmt(r: Row | None) -> str:
    return f"{r.p50:7.1f} / {r.p90:7.1f}" if r is not None else "   not measured"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=TURNS, help=f"turns per case (default {TURNS})")
    parser.add_argument(
        "--slice-ms", type=float, default=SLICE_MS, help=f"ms per case per turn (default {SLICE_MS})"
    )
    opts = parser.parse_args(argv)
    root = scratch_repo()
    print(
        f"  agentguard {ag.__version__} (tree-sitter {_version('tree-sitter')}, tree-sitter-bash "
        f"{_version('tree-sitter-bash')}), pycasbin {_version('pycasbin')}, cedarpy {_version('cedarpy')}; "
        f"Python {sys.version.split()[0]}; each case timed call by call for {opts.turns} turns of "
        f"{opts.slice_ms:g} ms; µs per decision, p50 / p90"
    )
    for size in SIZES:
        print(f"  agentguard policy, {size} rules: {composition(agentguard_policy(size, root)[0])}")
    print(f"  casbin and cedarpy: the same {', '.join(str(s) for s in SIZES)} policy rows, from strings")
    # Both sizes take turns in one measurement, so a slow phase of a busy machine hits both alike and
    # the 1,000/50 ratios compare like with like.
    all_cases: dict[str, Case] = {}
    for size in SIZES:
        cases, checks = build_cases(size, root)
        for line in checks:
            print(f"  check {line}")
        all_cases.update({f"{size}|{name}": make for name, make in cases.items()})
    samples = measure(all_cases, opts.turns, opts.slice_ms)
    results: dict[int, dict[str, Row]] = {}
    for size in SIZES:
        mine = {key.split("|", 1)[1]: v for key, v in samples.items() if key.startswith(f"{size}|")}
        print(f"  {size} rules: calls timed " + ", ".join(f"{k} {len(v)}" for k, v in mine.items()))
        results[size] = rows(mine)

    labels = [
        ("file write", "agentguard file", "casbin file", "cedarpy file"),
        ("shell, cold (new command)", "agentguard shell cold", "casbin shell", "cedarpy shell"),
        ("shell, cold, piped (parser)", "agentguard shell cold piped", "casbin shell", "cedarpy shell"),
        ("shell, warm (repeated)", "agentguard shell warm", "casbin shell", "cedarpy shell"),
        ("url fetch", "agentguard url", "casbin url", "cedarpy url"),
    ]
    print(f"  {'action':27s} {'rules':>5s}  {'agentguard p50/p90':>18s}  {'casbin':>17s}  {'cedarpy':>17s}")
    for size in SIZES:
        r = results[size]
        for label, ours, cas, ced in labels:
            print(
                f"policy {label:27s} {size:5d}: agentguard {_fmt(r.get(ours))} µs, "
                f"casbin {_fmt(r.get(cas))} µs, cedarpy {_fmt(r.get(ced))} µs"
            )

    # targets
    for size in SIZES:
        r = results[size]
        if "casbin file" in r:
            ratio = r["agentguard file"].p50 / r["casbin file"].p50
            verdict = "OK" if ratio <= FILE_TARGET else "MISSED"
            print(
                f"target file action <= {FILE_TARGET}x casbin ({size} rules): {ratio:.2f}x "
                f"(p50 {r['agentguard file'].p50:.1f} vs {r['casbin file'].p50:.1f} µs) {verdict}"
            )
        else:
            print(f"target file action <= {FILE_TARGET}x casbin ({size} rules): not measured (no casbin)")
    small, large = results[SIZES[0]], results[SIZES[-1]]
    for label, name in (
        ("file", "agentguard file"),
        ("shell cold", "agentguard shell cold"),
        ("shell warm", "agentguard shell warm"),
        ("url", "agentguard url"),
    ):
        ratio = large[name].p50 / small[name].p50
        verdict = "OK" if ratio <= SCALE_TARGET else "MISSED"
        print(
            f"target {label}: {SIZES[-1]} rules <= {SCALE_TARGET}x {SIZES[0]} rules: {ratio:.2f}x "
            f"(p50 {large[name].p50:.1f} vs {small[name].p50:.1f} µs) {verdict}"
        )
    for size in SIZES:
        cold_row, warm_row = results[size]["agentguard shell cold"], results[size]["agentguard shell warm"]
        verdict = "OK" if cold_row.p50 <= SHELL_TARGET_US else "MISSED"
        print(
            f"target shell action <= {SHELL_TARGET_US:.0f} µs ({size} rules, a command seen for the first "
            f"time, as agents send them): p50 {cold_row.p50:.1f} µs {verdict} "
            f"(repeated command: p50 {warm_row.p50:.1f} µs)"
        )
    for size in SIZES:
        piped_row = results[size]["agentguard shell cold piped"]
        verdict = "OK" if piped_row.p50 <= SHELL_TARGET_US else "MISSED"
        print(
            f"target shell action, piped <= {SHELL_TARGET_US:.0f} µs ({size} rules, a new command with a "
            f"pipe: the tree-sitter route): p50 {piped_row.p50:.1f} µs {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
