"""The action normaliser: one :class:`Facts` per action, so no spelling of an action hides what it does.

::

    >>> from agentguard.action import Action
    >>> from agentguard.normalise import normalise
    >>> facts = normalise(Action(kind="shell", tool="run", command="cd sub && git push -f"), root="/repo")
    >>> facts.git[0].force, facts.git[0].cwd
    (True, '/repo/sub')
    >>> f = normalise(Action(kind="shell", tool="run", command="echo cm0gLXJmIH4= | base64 -d | sh"))
    >>> f.opaque, [p.access for p in f.paths]
    (True, ['delete'])

:func:`normalise` is pure (it reads the file system to resolve paths, never writes) and never raises
(an internal failure comes back as an opaque action). Plain command lists are split without the
parser (:mod:`._plain`); analyses are cached in an LRU keyed by ``(command, cwd, home)``; paths are
resolved on every call because the file system changes. ``benchmarks/bench_policy.py`` measures it.

What it derives, from the action's canonical arguments (``path``, ``content``, ``command``, ``cwd``,
``url``) whatever the kind, plus the tool profile's extra targets (:mod:`._profiles`):

- :class:`PathFact` for every path read, written, deleted or executed, resolved against the scope root
  (``~``, ``..``, repeated slashes, symlinks of both root and target, non-existent tails);
- :class:`ShellFacts` for a shell command: every :class:`CommandFact` with wrappers peeled,
  :class:`GitFact` for git, hosts, and ``opaque`` with reasons for what cannot be known statically;
- :class:`UrlFact` for every URL or host, with userinfo tricks undone and IP literals in any spelling
  recognised as loopback, private or cloud metadata.

``opaque`` means "never allow silently": the policy engine denies or asks.

Known limits (what a static normaliser cannot see; rules should not assume otherwise):

- what a script, Makefile, npm script, test suite or git hook does when run: ``bash x.sh``,
  ``./run.sh``, ``make``, ``python x.py`` are ``exec`` facts only (a script written by the same command
  is opaque); the remote side of ``ssh host CMD``, ``docker``/``kubectl exec`` (hosts only);
- state from earlier actions or config: git aliases and ``remote.*.push`` refspecs already in a git
  config, ``PATH`` pointing at a planted program, pip/npm config choosing other indexes (the default
  hosts ``pypi.org``/``registry.npmjs.org`` are assumed);
- values known only at run time: ``for f in ~/.ssh/*; do cat "$f"; done`` reads ``$f`` (a dynamic path,
  never inside the root, but not opaque when only read); only ``$HOME`` is expanded;
- inline interpreter code is always opaque, but its paths and hosts come from a scan of its string
  literals (a name built at run time is missed); awk and sed programs are checked for the obvious
  command, write and environment escapes only;
- host names that resolve to loopback or metadata addresses through DNS (no lookups are made; only
  wildcard-DNS names such as ``127.0.0.1.nip.io`` are read);
- glob matches are looked up at normalisation time and bounded (32 per glob); brace expansion is
  bounded (64 words), nesting of shell strings (5), commands (512) and length (64 KiB), beyond which
  the action is opaque.
"""

from __future__ import annotations

from ..action import Action
from . import _profiles, _shell
from ._facts import Access, CommandFact, Facts, GitFact, PathFact, ShellFacts, UrlFact, builder
from ._paths import GLOB_CHARS, PathRef, bounded_glob, default_base, glob_matches, resolve, resolve_root
from ._profiles import PROFILES, action_from_tool_call, problems
from ._profiles import _strip as strip_tool_prefix
from ._urls import parse_url

__all__ = [
    "PROFILES",
    "Access",
    "CommandFact",
    "Facts",
    "GitFact",
    "PathFact",
    "ShellFacts",
    "UrlFact",
    "action_from_tool_call",
    "bounded_glob",
    "normalise",
    "parse_url",
    "problems",
    "strip_tool_prefix",
]


def normalise(action: Action, *, root: str | None = None) -> Facts:
    """Derive the facts of ``action``; relative paths start at its ``cwd``, else ``root``, else ours.

    Never raises: a failure inside the normaliser yields opaque facts naming it.
    """
    try:
        return _normalise(action, root)
    except Exception as exc:
        return Facts(
            kind=str(getattr(action, "kind", "other")),
            root=root,
            cwd=str(getattr(action, "cwd", None) or ""),
            opaque=True,
            reasons=(f"normaliser error ({type(exc).__name__}): not checked",),
        )


_new_facts = builder(Facts)
_new_shell = builder(ShellFacts)


def _str(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _normalise(action: Action, root: str | None) -> Facts:
    cwd = _str(action.cwd)
    root_real = resolve_root(root, cwd)
    base = default_base(cwd, root_real)
    refs: list[PathRef] = []
    reasons: list[str] = []
    urls: list[UrlFact] = []

    extra = _profiles.targets(action)
    reasons.extend(_profiles.opaque_reasons(action))
    for raw, target_access, glob in extra:
        refs.append(
            PathRef(
                raw,
                base,
                target_access,
                "patch" if action.tool == "apply_patch" else "tool",
                None,
                False,
                glob,
            )
        )
    path = _str(action.path)
    if path is not None and not any(r.raw == path for r in refs):
        access: Access = "write" if action.kind == "file_write" else "read"
        refs.append(PathRef(path, base, access, "tool", None, False, bool(GLOB_CHARS.intersection(path))))

    shell: ShellFacts | None = None
    command = _str(action.command)
    analysis = None
    if command is not None:
        analysis = _shell.analyse(command, base, _shell.home_dir())
        refs.extend(analysis.refs)
        urls.extend(analysis.urls)
        reasons.extend(analysis.reasons)

    url = _str(action.url)
    if url is not None:
        fact = parse_url(url, via="url", default_scheme="https")
        if fact is None:
            reasons.append(f"url has no host: {url[:200]}")
        else:
            urls.append(fact)

    resolved: dict[PathRef, PathFact] = {}
    matched: list[PathRef] = []
    for ref in refs:
        if ref not in resolved:
            resolved[ref] = resolve(ref, root_real)
            if ref.glob and analysis is not None and ref.via != "tool":
                found, complete = glob_matches(ref)
                matched.extend(found)
                if not complete:
                    reasons.append(f"glob {ref.raw[:200]} reaches too much of the file system to be listed")
    for ref in matched:
        if ref not in resolved:
            resolved[ref] = resolve(ref, root_real)
    paths = tuple(resolved.values())
    if analysis is not None and command is not None:
        shell_paths = tuple(resolved[r] for r in dict.fromkeys((*analysis.refs, *matched)))
        shell = _new_shell(
            command=command,
            commands=analysis.commands,
            paths=shell_paths,
            urls=analysis.urls,
            git=analysis.git,
            opaque=bool(analysis.reasons),
            reasons=analysis.reasons,
            parse_error=analysis.parse_error,
            env_dump=analysis.env_dump,
        )
    return _new_facts(
        kind=action.kind,
        root=root_real,
        cwd=base,
        paths=paths,
        urls=tuple(urls),
        shell=shell,
        opaque=bool(reasons),
        reasons=tuple(reasons),
    )
