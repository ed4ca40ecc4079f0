"""Path resolution: from a path as written to the real path the kernel will open.

::

    >>> ref = PathRef(raw="src/../.env", base="/repo", access="read", via="argument")
    >>> fact = resolve(ref, root="/repo")        # doctest: +SKIP
    >>> fact.relative, fact.inside_root          # doctest: +SKIP
    ('.env', True)

``~`` and ``~user`` are expanded, relative paths joined to their base (the action's ``cwd``, or the
directory a ``cd`` moved to), then :func:`os.path.realpath` resolves ``..`` and symlinks component by
component; for a target that does not exist yet the longest existing prefix is resolved and the rest
appended. Both the root and the target are resolved, so a link inside the root that points out is
outside. A path that depends on a run-time value is never reported inside the root.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fnmatch import fnmatchcase

from ._facts import Access, PathFact

GLOB_CHARS = frozenset("*?[")

# Device files a command may read from or write to without touching anyone's data.
_HARMLESS = frozenset(
    {
        "/dev/null",
        "/dev/zero",
        "/dev/stdin",
        "/dev/stdout",
        "/dev/stderr",
        "/dev/tty",
        "/dev/random",
        "/dev/urandom",
        "/dev/fd/0",
        "/dev/fd/1",
        "/dev/fd/2",
        "/proc/self/fd/0",
        "/proc/self/fd/1",
        "/proc/self/fd/2",
    }
)


@dataclass(frozen=True, slots=True)
class PathRef:
    """A path as an action names it, before the file system is consulted (cacheable)."""

    raw: str
    base: str | None
    """Absolute logical directory a relative ``raw`` is joined to; ``None`` when unknown."""
    access: Access
    via: str
    program: str | None = None
    dynamic: bool = False
    glob: bool = False


def is_harmless_device(raw: str) -> bool:
    """``/dev/null`` and friends: redirections there are not file writes worth a fact."""
    return raw in _HARMLESS


def expand_home(raw: str) -> str:
    """``~`` and ``~user`` expanded (left as written when the user is unknown)."""
    if not raw.startswith("~"):
        return raw
    try:
        return os.path.expanduser(raw)
    except Exception:
        return raw


def absolute(raw: str, base: str) -> str:
    """``raw`` made absolute against ``base`` and lexically normalised (no file-system access)."""
    path = expand_home(raw)
    if not path.startswith("/"):
        path = base.rstrip("/") + "/" + path
    norm = os.path.normpath(path)
    return "/" + norm.lstrip("/")  # POSIX keeps a leading '//'; we do not


def realpath(path: str) -> str | None:
    """The real path of an absolute path, or ``None`` when it cannot be resolved."""
    if "\x00" in path:
        return None
    try:
        return os.path.realpath(path)
    except Exception:
        return None


def resolve_root(root: str | None, cwd: str | None) -> str | None:
    """The scope root as a real path; a relative root is taken against ``cwd``, else the process's."""
    if root is None:
        return None
    base = cwd if cwd and cwd.startswith("/") else _getcwd()
    return realpath(absolute(root or ".", base)) or absolute(root or ".", base)


def _getcwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "/"


def default_base(cwd: str | None, root: str | None) -> str:
    """Where relative paths start: the action's cwd, else the root, else the process cwd."""
    if cwd:
        if cwd.startswith("/"):
            return absolute(cwd, "/")
        return absolute(cwd, root or _getcwd())
    return root or _getcwd()


def within(path: str, root: str) -> bool:
    return root in (path, "/") or path.startswith(root + "/")


def _glob_escapes(path: str) -> bool:
    """A glob component that can match ``..`` (``.*``, ``.?``, ``.[.]``) may leave its directory.

    Shells never let a leading ``*``, ``?`` or ``[...]`` match a leading dot, so only components that
    start with a literal ``.`` (or a bracket) can; older bash versions do match ``..`` with ``.*``.
    """
    return any(part and GLOB_CHARS.intersection(part) and fnmatchcase("..", part) for part in path.split("/"))


def resolve(ref: PathRef, root: str | None) -> PathFact:
    """Resolve one reference against the file system; never raises."""
    raw = ref.raw
    dynamic = ref.dynamic or ref.base is None or "\x00" in raw or raw.startswith(("~+", "~-"))
    base = ref.base or "/"
    try:
        lexical = absolute(raw.replace("\x00", ""), base)
    except Exception:
        lexical, dynamic = "/", True
    resolved = realpath(lexical)
    if resolved is None:
        resolved, dynamic = lexical, True
    exists = False
    try:
        exists = os.path.lexists(resolved)
    except Exception:
        exists = False
    inside = (
        root is not None
        and not dynamic
        and within(resolved, root)
        and not (ref.glob and _glob_escapes(lexical))
    )
    relative: str | None = None
    if inside and root is not None:
        relative = "." if resolved == root else resolved[len(root.rstrip("/")) + 1 :]
    return PathFact(
        raw=raw,
        resolved=resolved,
        relative=relative,
        inside_root=inside,
        exists=exists,
        access=ref.access,
        via=ref.via,
        program=ref.program,
        dynamic=dynamic,
        glob=ref.glob,
    )
