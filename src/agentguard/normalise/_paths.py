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
import stat
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import NamedTuple

from .._lazyre import lazy_compile
from ._facts import Access, PathFact, builder

GLOB_CHARS = frozenset("*?[")
_MAX_LINKS = 40

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


class PathRef(NamedTuple):
    """A path as an action names it, before the file system is consulted (cacheable, hashable)."""

    raw: str
    base: str | None
    """Absolute logical directory a relative ``raw`` is joined to; ``None`` when unknown."""
    access: Access
    via: str
    program: str | None = None
    dynamic: bool = False
    glob: bool = False


GLOB_MATCHES = 32
"""Matches of one glob looked up on disk (the glob fact itself always stays)."""


GLOB_ENTRIES = 4096
"""Directory entries one glob may list before it is given up as too broad."""


def bounded_glob(pattern: str, limit: int, entries: int = GLOB_ENTRIES) -> tuple[list[str], bool]:
    """Up to ``limit`` matches of an absolute shell glob and whether the listing was complete.

    Component by component, as the shell expands it (hidden names only for a pattern starting with
    ``.``), listing at most ``entries`` directory entries in all; below a wildcard directly under ``/``
    nothing is listed (``/*/*/...`` is incomplete at once, ``/*`` is one listing), so no glob walks the
    whole file system and no ``/proc/*/root`` loop is followed further than the entry budget allows.
    """
    parts = pattern.split("/")[1:]
    if len(pattern) > PATH_MAX:
        return [], False
    if len(parts) > 1 and GLOB_CHARS.intersection(parts[0]):
        return [], False  # /*/...: every directory of the file system; /* alone is one listing
    out: list[str] = []
    budget = [entries]
    last = len(parts) - 1

    def walk(base: str, i: int) -> bool:
        while i <= last and not GLOB_CHARS.intersection(parts[i]):
            base = f"{base}/{parts[i]}" if parts[i] else base
            i += 1
        if i > last:
            if base and os.path.lexists(base):
                out.append(base)
            return len(out) < limit
        part = parts[i]
        try:
            listing = os.scandir(base or "/")
        except OSError:
            return True
        with listing:
            for entry in listing:
                budget[0] -= 1
                if budget[0] < 0:
                    return False
                name = entry.name
                if name[0] == "." and part[0] != ".":
                    continue
                if not fnmatchcase(name, part):
                    continue
                if i < last:
                    try:
                        if not entry.is_dir():
                            continue
                    except OSError:
                        continue
                    if not walk(f"{base}/{name}", i + 1):
                        return False
                else:
                    out.append(f"{base}/{name}")
                    if len(out) >= limit:
                        return False
        return True

    try:
        complete = walk("", 0)
    except (OSError, RecursionError):
        complete = False
    return out, complete and len(out) < limit


def glob_matches(ref: PathRef) -> tuple[list[PathRef], bool]:
    """What a shell glob matches now (``cat .en?`` reads ``.env``), as extra references, and whether
    they are all of them (:func:`bounded_glob`)."""
    if not ref.glob or ref.dynamic or ref.base is None or "\x00" in ref.raw:
        return [], True
    try:
        found, complete = bounded_glob(joined(ref.raw, ref.base), GLOB_MATCHES)
    except Exception:
        return [], False
    return [PathRef(m, "/", ref.access, "glob", ref.program) for m in found], complete or len(
        found
    ) >= GLOB_MATCHES


_STDIN = lazy_compile(
    r"/dev/stdin|/dev/fd/0|/proc/(?:self|thread-self|\$\$|\$BASHPID|[0-9]+)(?:/task/[^/]+)?/fd/0"
)


def is_stdin(raw: str) -> bool:
    """``-``, ``/dev/stdin``, ``/proc/self/fd/0`` and other names of standard input: a program given one
    as its script runs whatever is fed to it."""
    return raw == "-" or (
        raw[:5] in ("/dev/", "/proc") and _STDIN.fullmatch(raw.replace("//", "/")) is not None
    )


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


def joined(raw: str, base: str) -> str:
    """``raw`` made absolute against ``base``, ``..`` left for the resolver (symlinks come first)."""
    path = expand_home(raw)
    return path if path.startswith("/") else base.rstrip("/") + "/" + path


def real(path: str, anchor: str | None = None) -> tuple[str, bool] | None:
    """``(real path, exists)`` of an absolute path, as the kernel resolves it; ``None`` on a loop.

    Like :func:`os.path.realpath` (symlinks resolved component by component, ``..`` applied to the
    real parent, a missing tail appended as written) but it starts from ``anchor``, an already real
    prefix (the root), skips the look-ups a missing component makes pointless, and says whether the
    target exists, so a typical path costs one ``lstat`` per component below the root.
    """
    if anchor and anchor != "/" and (path == anchor or path.startswith(anchor + "/")):
        current, rest = anchor, path[len(anchor) :]
    else:
        current, rest = "", path
    pending = [p for p in reversed(rest.split("/")) if p and p != "."]
    missing_base: str | None = None
    hops = 0
    while pending:
        name = pending.pop()
        if name == "..":
            current = current.rsplit("/", 1)[0]
            if missing_base is not None and len(current) <= len(missing_base):
                missing_base = None
            continue
        candidate = current + "/" + name
        if missing_base is not None:
            current = candidate
            continue
        try:
            st = os.lstat(candidate)
        except (OSError, ValueError):
            missing_base, current = current, candidate
            continue
        if stat.S_ISLNK(st.st_mode):
            hops += 1
            if hops > _MAX_LINKS:
                return None
            try:
                target = os.readlink(candidate)
            except (OSError, ValueError):
                missing_base, current = current, candidate
                continue
            if target.startswith("/"):
                current = ""
            pending.extend(p for p in reversed(target.split("/")) if p and p != ".")
            continue
        current = candidate
    return (current or "/"), missing_base is None


def realpath(path: str) -> str | None:
    """The real path of an absolute path, or ``None`` when it cannot be resolved."""
    if "\x00" in path:
        return None
    try:
        found = real(path)
    except Exception:
        return None
    return found[0] if found is not None else None


_ROOTS: dict[tuple[str, str], str] = {}


def resolve_root(root: str | None, cwd: str | None) -> str | None:
    """The scope root as a real path; a relative root is taken against ``cwd``, else the process's.

    Existing roots are remembered (a root that is itself re-pointed by a symlink while a process runs
    is not noticed).
    """
    if root is None:
        return None
    base = cwd if cwd and cwd.startswith("/") else _getcwd()
    key = (root, base if not root.startswith("/") else "")
    cached = _ROOTS.get(key)
    if cached is not None:
        return cached
    found = real(joined(root or ".", base)) if "\x00" not in root else None
    if found is None:
        return absolute(root.replace("\x00", "") or ".", base)
    if found[1] and len(_ROOTS) < 256:
        _ROOTS[key] = found[0]
    return found[0]


def _getcwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "/"


@lru_cache(maxsize=256)
def _absolute_cwd(cwd: str) -> str:
    """:func:`absolute` of an absolute directory (a pure function: no ``~``), remembered."""
    return absolute(cwd, "/")


def default_base(cwd: str | None, root: str | None) -> str:
    """Where relative paths start: the action's cwd, else the root, else the process cwd."""
    if cwd:
        if cwd.startswith("/"):
            return _absolute_cwd(cwd)
        return absolute(cwd, root or _getcwd())
    return root or _getcwd()


def within(path: str, root: str) -> bool:
    return root in (path, "/") or path.startswith(root + "/")


def _glob_escapes(path: str) -> bool:
    """A glob component that can match ``..`` (``.*``, ``.?``, ``.[.]``) may leave its directory.

    Shells never let a leading ``*``, ``?`` or ``[...]`` match a leading dot, so only components that
    start with a literal ``.`` (or a bracket) can; older bash versions do match ``..`` with ``.*``.
    """
    return any(
        part[:1] in (".", "[") and GLOB_CHARS.intersection(part) and fnmatchcase("..", part)
        for part in path.split("/")
    )


def _real_delete(path: str, anchor: str | None) -> tuple[str, bool] | None:
    """Deleting (``rm``, ``unlink``, ``mv`` away) acts on a final symlink itself, not its target;
    with a trailing slash the link is followed, as the kernel does."""
    head, _, tail = path.rpartition("/")
    if not tail or tail in (".", ".."):
        return real(path, anchor)
    parent = real(head or "/", anchor)
    if parent is None:
        return None
    resolved = parent[0].rstrip("/") + "/" + tail
    return resolved, parent[1] and os.path.lexists(resolved)


PATH_MAX = 4096
"""Longest path the kernel takes in one call (Linux ``PATH_MAX``); longer ones fail, so they are not
resolved (which would cost time that grows with the length)."""
NAME_MAX = 255


def _long_name(path: str) -> bool:
    return any(len(part) > NAME_MAX for part in path.split("/"))


def resolve(ref: PathRef, root: str | None) -> PathFact:
    """Resolve one reference against the file system; never raises."""
    raw = ref.raw
    dynamic = ref.dynamic or ref.base is None or "\x00" in raw or raw.startswith(("~+", "~-"))
    base = ref.base or "/"
    try:
        lexical = joined(raw, base)
        if len(lexical) > PATH_MAX or (len(lexical) > NAME_MAX and _long_name(lexical)):
            # the kernel refuses it (ENAMETOOLONG): not resolved, never inside
            lexical, dynamic, found = lexical[:PATH_MAX], True, None
        else:
            if "\x00" in lexical:  # the kernel refuses such a path; never report it inside
                lexical, dynamic = lexical.replace("\x00", ""), True
            found = _real_delete(lexical, root) if ref.access == "delete" else real(lexical, root)
    except Exception:
        lexical, found = "/", None
    if found is None:
        resolved, exists, dynamic = absolute(lexical, "/"), False, True
    else:
        resolved, exists = found
    inside = (
        root is not None
        and not dynamic
        and within(resolved, root)
        and not (ref.glob and _glob_escapes(lexical))
    )
    relative: str | None = None
    if inside and root is not None:
        relative = "." if resolved == root else resolved[len(root.rstrip("/")) + 1 :]
    return _new_path(
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


_new_path = builder(PathFact)
