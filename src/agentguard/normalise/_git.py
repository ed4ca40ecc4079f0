"""``git`` command lines, normalised: ``git -C . -c x=y push --force`` and ``git push origin +main`` are
both force pushes.

Global options (``-C``, ``-c``, ``--git-dir``, ``--work-tree``, ``--exec-path``, ``--no-pager``...) are
peeled off; ``-C`` moves the repository directory. What cannot be known statically is reported as a
reason to treat the command as opaque: a ``-c`` setting (or ``git config`` write) that defines an alias
or makes git run or reach something else (``core.sshCommand``, ``core.hooksPath``, ``url.*.insteadOf``),
``--exec-path``, ``--receive-pack``/``--upload-pack``, and any subcommand git does not ship (an alias or
an external ``git-*`` program).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from operator import itemgetter

from .._lazyre import lazy_compile
from ._facts import Access, GitFact, UrlFact, builder
from ._options import getopt, has, values
from ._urls import host_fact, parse_scp_like, parse_url
from ._words import Word

RefFn = Callable[[Word, Access, str, str | None], None]

_RISKY_CONFIG = lazy_compile(
    r"^(alias\.|core\.(sshcommand|pager|editor|hookspath|fsmonitor|gitproxy|askpass)|diff\..*(external|textconv|command)"
    r"|filter\.|credential\.|sequence\.editor|gpg\.|url\.|http\.proxy|https?\..*proxy|include|merge\..*driver"
    r"|pager\.|interactive\.|uploadpack\.|receive\.|protocol\.|ssh\.|difftool\.|mergetool\.|remote\..*(url|proxy|receivepack|uploadpack)"
    r"|submodule\..*(url|update)|core\.|remote\..*\.(push|mirror|pushurl|fetch|vcs)|tar\.|.*\.sshcommand"
    r"|.*\.(command|cmd|program|helper)$)",
    re.IGNORECASE,
)
_KNOWN = frozenset(
    (
        "add",
        "am",
        "annotate",
        "apply",
        "archive",
        "bisect",
        "blame",
        "branch",
        "bundle",
        "cat-file",
        "check-attr",
        "check-ignore",
        "check-mailmap",
        "check-ref-format",
        "checkout",
        "checkout-index",
        "cherry",
        "cherry-pick",
        "citool",
        "clean",
        "clone",
        "column",
        "commit",
        "commit-graph",
        "commit-tree",
        "config",
        "count-objects",
        "credential",
        "describe",
        "diff",
        "diff-files",
        "diff-index",
        "diff-tree",
        "difftool",
        "fetch",
        "fetch-pack",
        "filter-branch",
        "fmt-merge-msg",
        "for-each-ref",
        "for-each-repo",
        "format-patch",
        "fsck",
        "gc",
        "get-tar-commit-id",
        "grep",
        "gui",
        "hash-object",
        "help",
        "index-pack",
        "init",
        "instaweb",
        "interpret-trailers",
        "lfs",
        "log",
        "ls-files",
        "ls-remote",
        "ls-tree",
        "mailinfo",
        "mailsplit",
        "maintenance",
        "merge",
        "merge-base",
        "merge-file",
        "merge-tree",
        "mktag",
        "mktree",
        "multi-pack-index",
        "mv",
        "name-rev",
        "notes",
        "pack-objects",
        "pack-refs",
        "patch-id",
        "prune",
        "prune-packed",
        "pull",
        "push",
        "range-diff",
        "read-tree",
        "rebase",
        "reflog",
        "remote",
        "repack",
        "replace",
        "request-pull",
        "rerere",
        "reset",
        "restore",
        "rev-list",
        "rev-parse",
        "revert",
        "rm",
        "send-email",
        "shortlog",
        "show",
        "show-branch",
        "show-ref",
        "sparse-checkout",
        "stash",
        "status",
        "stripspace",
        "submodule",
        "switch",
        "symbolic-ref",
        "tag",
        "unpack-objects",
        "update-index",
        "update-ref",
        "update-server-info",
        "var",
        "verify-commit",
        "verify-pack",
        "verify-tag",
        "version",
        "whatchanged",
        "worktree",
        "write-tree",
    )
)
_GLOBAL_VALUE = frozenset(
    {
        "-C",
        "-c",
        "--git-dir",
        "--work-tree",
        "--namespace",
        "--config-env",
        "--super-prefix",
        "--list-cmds",
        "--exec-path",
    }
)


_EMPTY = GitFact(subcommand=None, args=(), cwd=None)
_new_git = builder(GitFact)
_value = itemgetter(0)


class GitResult:
    """What :func:`analyse` found: the fact, hosts reached, reasons to be opaque; ``changes`` are the
    fact's fields a subcommand handler sets (``force``, ``delete``, ``remote``, ``refspecs``)."""

    __slots__ = ("argvs", "changes", "fact", "reasons", "texts", "urls")

    def __init__(self, fact: GitFact, reasons: list[str]) -> None:
        self.fact = fact
        self.urls: list[UrlFact] = []
        self.reasons = reasons
        self.changes: dict[str, object] = {}
        self.texts: list[tuple[Word, str]] = []
        """Shell command strings git runs (``rebase --exec``, ``submodule foreach``), with where."""
        self.argvs: list[list[Word]] = []
        """Command lines git runs (``bisect run CMD...``)."""


def _remote_url(word: Word, urls: list[UrlFact], ref: RefFn, cwd: str | None) -> None:
    if not word.static:
        return
    value = word.value
    if "://" in value:
        if value.lower().startswith("file://"):
            ref(Word(value[7:], True), "read", "git", cwd)
            return
        fact = parse_url(value, via="git", program="git")
        if fact is not None:
            urls.append(fact)
        return
    scp = parse_scp_like(value)
    if scp is not None:
        urls.append(
            host_fact(
                scp[1], raw=value, scheme="ssh", via="git", program="git", had_userinfo=scp[0] is not None
            )
        )
    elif "/" in value or value.startswith("."):
        ref(word, "read", "git", cwd)


def analyse(args: list[Word], cwd: str | None, ref: RefFn) -> GitResult:
    """Normalise ``git ARGS`` run in ``cwd``; ``ref(word, access, via, base)`` records path facts."""
    reasons: list[str] = []
    config: list[str] = []
    i = 0
    n = len(args)
    while i < n:
        w = args[i]
        v = w.value
        if not w.static or not v.startswith("-"):
            break
        name, eq, attached = v.partition("=")
        value: Word | None = Word(attached, True) if eq else None
        if name in _GLOBAL_VALUE and not eq and name not in ("--exec-path", "--list-cmds"):
            value = args[i + 1] if i + 1 < len(args) else None
            i += 1
        i += 1
        if name == "-C" and value is not None:
            cwd = os.path.normpath(os.path.join(cwd, value.value)) if value.static and cwd else None
        elif name == "-c" and value is not None:
            config.append(value.value)
            if not value.static or _RISKY_CONFIG.match(value.value):
                reasons.append(f"git -c {value.value}: defines an alias or changes what git runs or reaches")
        elif name in ("--exec-path", "--config-env") and value is not None:
            reasons.append(f"git {name}: git programs or settings come from elsewhere")
        elif name in ("--git-dir", "--work-tree") and value is not None:
            ref(value, "read", "option", cwd)
    rest = args[i:]
    sub = rest[0].value if rest and rest[0].static else None
    sargs = rest[1:]
    if rest and sub is None:
        reasons.append("git subcommand is computed at run time")
    elif sub is not None and sub not in _KNOWN:
        reasons.append(f"git {sub}: not a git command (an alias or an external git-{sub} program)")
    result = GitResult(_EMPTY, reasons)
    longs = _LONG_OPTIONS.get(sub or "")
    if longs is not None:
        sargs = [_expand_long(w, longs) for w in sargs]
    runs = _RUNS_BY_SUB.get(sub or "")
    if runs is not None:
        for w in sargs:
            if w.static and w.value[:1] == "-":
                effect = runs.get(w.value.split("=", 1)[0])
                if effect is not None:
                    _option_command(sub or "", w, sargs, effect, cwd, ref, result)
    handler = _HANDLERS.get(sub or "")
    if handler is not None:
        handler(sargs, cwd, ref, result)
    ch = result.changes
    if ch:
        result.fact = _new_git(
            subcommand=sub,
            args=tuple(map(_value, sargs)),
            cwd=cwd,
            force=bool(ch.get("force", False)),
            delete=bool(ch.get("delete", False)),
            remote=_str_or_none(ch.get("remote")),
            refspecs=_strings(ch.get("refspecs", ())),
            config=tuple(config),
        )
    else:  # most commands: nothing forced, deleted or pushed
        result.fact = _new_git(subcommand=sub, args=tuple(map(_value, sargs)), cwd=cwd, config=tuple(config))
    return result


_LONG_OPTIONS: dict[str, tuple[str, ...]] = {
    sub: tuple(f"--{o}" for o in names.split())
    for sub, names in {
        "push": "force force-with-lease force-if-includes mirror delete prune all tags follow-tags "
        "receive-pack exec repo set-upstream dry-run porcelain verbose quiet atomic no-verify "
        "push-option signed thin progress recurse-submodules",
        "reset": "hard soft mixed merge keep quiet patch pathspec-from-file",
        "clean": "force dry-run quiet exclude interactive",
        "checkout": "force ours theirs track detach orphan merge conflict patch quiet progress "
        "overwrite-ignore pathspec-from-file",
        "switch": "force discard-changes create force-create detach guess track orphan merge conflict quiet",
        "branch": "delete force move copy list all remotes set-upstream-to unset-upstream track contains "
        "merged no-merged verbose quiet edit-description show-current",
        "tag": "delete force list annotate sign message file verify",
        "fetch": "prune prune-tags force all tags upload-pack depth dry-run append multiple",
        "pull": "force prune rebase upload-pack all tags depth dry-run",
        "clone": "mirror bare upload-pack template config origin branch depth recurse-submodules "
        "separate-git-dir",
        "rebase": "exec interactive onto root autosquash continue abort skip",
        "diff": "output no-index ext-diff textconv",
        "log": "output ext-diff textconv",
        "show": "output ext-diff textconv",
        "format-patch": "output-directory",
        "grep": "open-files-in-pager",
        "difftool": "extcmd tool",
        "mergetool": "tool",
        "archive": "output remote exec",
        "stash": "include-untracked all",
        "worktree": "force",
    }.items()
}
"""Each subcommand's long options whose unique-prefix abbreviations git accepts (``--forc``,
``--mirr``, ``--har``); the effectful ones first, since a prefix is read as the first it fits."""


def _expand_long(w: Word, longs: tuple[str, ...]) -> Word:
    v = w.value
    if not (w.static and v.startswith("--") and len(v) > 3):
        return w
    name, eq, value = v.partition("=")
    if name in longs:
        return w
    full = next((o for o in longs if o.startswith(name)), None)
    return w if full is None else Word(full + eq + value, True)


_RUNS: dict[tuple[str, str], str] = {
    ("rebase", "-x"): "shell",
    ("rebase", "--exec"): "shell",
    ("difftool", "-x"): "shell",
    ("difftool", "--extcmd"): "shell",
    ("grep", "-O"): "opaque",
    ("grep", "--open-files-in-pager"): "opaque",
    ("archive", "-o"): "write",
    ("archive", "--output"): "write",
    ("archive", "--remote"): "opaque",
    ("archive", "--exec"): "opaque",
    ("diff", "--output"): "write",
    ("log", "--output"): "write",
    ("show", "--output"): "write",
    ("format-patch", "-o"): "write",
    ("format-patch", "--output-directory"): "write",
    ("diff", "--ext-diff"): "opaque",
    ("fetch", "--upload-pack"): "opaque",
    ("clone", "--upload-pack"): "opaque",
    ("clone", "--template"): "opaque",
    ("clone", "--config"): "config",
    ("clone", "-c"): "config",
}
"""``(subcommand, option)`` → what its value is: a shell command git runs, a file written, a
setting checked like ``-c``, or something git runs that cannot be read (opaque)."""


_RUNS_BY_SUB: dict[str, dict[str, str]] = {}
for (_sub, _option), _effect in _RUNS.items():
    _RUNS_BY_SUB.setdefault(_sub, {})[_option] = _effect


def _option_command(
    sub: str, w: Word, args: list[Word], effect: str, cwd: str | None, ref: RefFn, r: GitResult
) -> None:
    name, eq, attached = w.value.partition("=")
    value: Word | None = Word(attached, True) if eq else None
    if value is None and not (sub == "grep" or name == "--ext-diff"):
        if len(name) > 2 and not name.startswith("--"):  # -xCMD
            value = Word(name[2:], True)
        else:
            idx = next((k for k, x in enumerate(args) if x is w), -1)
            value = args[idx + 1] if 0 <= idx < len(args) - 1 else None
    if effect == "shell" and value is not None:
        r.texts.append((value, f"git {sub} {name}"))
    elif effect == "write" and value is not None:
        ref(value, "write", "option", cwd)
    elif effect == "config" and value is not None:
        if not value.static or _RISKY_CONFIG.match(value.value):
            r.reasons.append(f"git {sub} {name} {value.value}: changes what git runs or reaches")
    elif effect == "opaque":
        r.reasons.append(f"git {sub} {name}: runs a program git is given")


def _bisect(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    if a and a[0].value == "run" and len(a) > 1:
        r.argvs.append(a[1:])


def _submodule_foreach(a: list[Word], r: GitResult) -> None:
    i = 1
    while i < len(a) and a[i].value.startswith("-"):
        i += 1
    if i < len(a):
        text = " ".join(w.value for w in a[i:])
        r.texts.append((Word(text, all(w.static for w in a[i:])), "git submodule foreach"))


def _mv(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    p = getopt(a, short="", long=frozenset())
    ops = p.operands
    if len(ops) >= 2:
        for w in ops[:-1]:
            ref(w, "delete", "argument", cwd)
        ref(ops[-1], "write", "argument", cwd)
    if has(p, "-f", "--force"):
        _replace(r, force=True)


def _bundle(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    if len(a) >= 2 and a[0].value == "create":
        target = next((w for w in a[1:] if not w.value.startswith("-")), None)
        if target is not None:
            ref(target, "write", "argument", cwd)
    elif len(a) >= 2 and a[0].value in ("unbundle", "verify", "list-heads"):
        ref(a[1], "read", "argument", cwd)


def _diff(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    if any(w.value == "--no-index" for w in a):
        for w in a:
            if not w.value.startswith("-"):
                ref(w, "read", "argument", cwd)


def _worktree(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    if not a:
        return
    p = getopt(a[1:], short="b", long=frozenset({"reason"}))
    if a[0].value == "add" and p.operands:
        ref(p.operands[0], "write", "argument", cwd)
    elif a[0].value in ("remove", "prune") and p.operands:
        ref(p.operands[0], "delete", "argument", cwd)
    elif a[0].value == "move" and len(p.operands) >= 2:
        ref(p.operands[0], "delete", "argument", cwd)
        ref(p.operands[1], "write", "argument", cwd)
    _replace(r, force=has(p, "-f", "--force"))


def _init(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    p = getopt(
        a, short="b", long=frozenset({"template", "separate-git-dir", "initial-branch", "object-format"})
    )
    for w in p.operands[:1] or [Word(".", True)]:
        ref(Word(w.value.rstrip("/") + "/.git", w.static), "write", "argument", cwd)
    for w in values(p, "--separate-git-dir"):
        ref(w, "write", "option", cwd)
    if has(p, "--template"):
        r.reasons.append("git init --template: hooks and config are copied from elsewhere")


def _credential(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    if a and a[0].value in ("fill", "approve", "reject"):
        r.reasons.append(f"git credential {a[0].value}: reads or stores a saved password or token")


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, tuple) else ()


def _replace(result: GitResult, **changes: object) -> None:
    result.changes.update(changes)


_PUSH_LONG = frozenset({"repo", "push-option", "receive-pack", "exec"})


def _push(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    p = getopt(a, short="o", long=_PUSH_LONG)
    force = has(p, "-f", "--force", "--force-with-lease", "--force-if-includes", "--mirror")
    delete = has(p, "-d", "--delete", "--prune", "--mirror")
    if has(p, "--receive-pack", "--exec"):
        r.reasons.append("git push --receive-pack: runs a program on the remote side")
    remote_words = values(p, "--repo")
    operands = p.operands
    if not remote_words and operands:
        remote_words, operands = operands[:1], operands[1:]
    refspecs = tuple(w.value for w in operands)
    force = force or any(s.startswith("+") for s in refspecs)
    delete = delete or any(s.startswith(":") and len(s) > 1 for s in refspecs)
    if any(not w.static for w in operands):
        force = force or any(w.value.startswith("+") for w in operands)
    remote = remote_words[0].value if remote_words else None
    for w in remote_words:
        _remote_url(w, r.urls, ref, cwd)
    _replace(r, force=force, delete=delete, remote=remote, refspecs=refspecs)


_FETCH_LONG = frozenset(
    {
        "upload-pack",
        "depth",
        "deepen",
        "shallow-since",
        "shallow-exclude",
        "refmap",
        "server-option",
        "jobs",
        "recurse-submodules-default",
        "negotiation-tip",
        "filter",
        "strategy",
        "strategy-option",
        "gpg-sign",
    }
)


def _fetch(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    p = getopt(
        a,
        short="jo",
        long=_FETCH_LONG,
    )
    if has(p, "--upload-pack"):
        r.reasons.append("git --upload-pack: runs a program on the remote side")
    if p.operands:
        _remote_url(p.operands[0], r.urls, ref, cwd)
        _replace(r, remote=p.operands[0].value, refspecs=tuple(w.value for w in p.operands[1:]))


_CLONE_LONG = frozenset(
    {
        "branch",
        "origin",
        "depth",
        "reference",
        "reference-if-able",
        "config",
        "template",
        "upload-pack",
        "separate-git-dir",
        "filter",
        "jobs",
        "shallow-since",
        "shallow-exclude",
        "server-option",
        "bundle-uri",
        "ref-format",
    }
)


def _clone(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    p = getopt(
        a,
        short="bojcu",
        long=_CLONE_LONG,
    )
    for c in values(p, "-c", "--config"):
        if not c.static or _RISKY_CONFIG.match(c.value):
            r.reasons.append(f"git clone -c {c.value}: changes what git runs or reaches")
    if has(p, "-u", "--upload-pack", "--template"):
        r.reasons.append("git clone --upload-pack/--template: runs or installs programs")
    if p.operands:
        _remote_url(p.operands[0], r.urls, ref, cwd)
        if len(p.operands) > 1:
            ref(p.operands[1], "write", "argument", cwd)
        elif p.operands[0].static:
            name = p.operands[0].value.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
            if name:
                ref(Word(name, True), "write", "argument", cwd)
        _replace(r, remote=p.operands[0].value)


_REMOTE_LONG = frozenset({"mirror"})


def _remote(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    if not a:
        return
    verb = a[0].value
    p = getopt(a[1:], short="tm", long=_REMOTE_LONG)
    if (verb == "add" and len(p.operands) >= 2) or (verb == "set-url" and len(p.operands) >= 2):
        _remote_url(p.operands[1], r.urls, ref, cwd)
        _replace(r, remote=p.operands[0].value)
    elif verb in ("remove", "rm"):
        _replace(r, delete=True)


_LS_REMOTE_LONG = frozenset({"upload-pack", "sort", "server-option"})


def _ls_remote(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    p = getopt(a, long=_LS_REMOTE_LONG)
    if p.operands:
        _remote_url(p.operands[0], r.urls, ref, cwd)


_SUBMODULE_LONG = frozenset({"branch", "name", "reference", "depth"})


def _submodule(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    if a and a[0].value == "foreach":
        _submodule_foreach(a, r)
    if a and a[0].value == "add":
        p = getopt(a[1:], short="b", long=_SUBMODULE_LONG)
        if p.operands:
            _remote_url(p.operands[0], r.urls, ref, cwd)


_CONFIG_LONG = frozenset({"file", "blob", "type", "default", "comment", "value"})


def _config(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    p = getopt(a, short="f", long=_CONFIG_LONG)
    ops = p.operands
    if ops and ops[0].value in ("set", "unset", "get", "list", "edit", "rename-section", "remove-section"):
        verb, ops = ops[0].value, ops[1:]
        writing = verb in ("set", "unset", "edit", "rename-section", "remove-section")
    else:
        writing = len(ops) >= 2 or has(
            p,
            "--add",
            "--unset",
            "--unset-all",
            "--replace-all",
            "--edit",
            "-e",
            "--rename-section",
            "--remove-section",
        )
    if not writing:
        return
    key = ops[0].value if ops else ""
    if not (ops and ops[0].static) or _RISKY_CONFIG.match(key):
        r.reasons.append(f"git config {key}: defines an alias or changes what git runs or reaches")
    files = values(p, "-f", "--file")
    if files:
        ref(files[0], "write", "option", cwd)
    elif has(p, "--global"):
        ref(Word("~/.gitconfig", True), "write", "option", cwd)
    elif has(p, "--system"):
        ref(Word("/etc/gitconfig", True), "write", "option", cwd)
    else:
        ref(Word(".git/config", True), "write", "option", cwd)


_PATHSPECS_LONG = frozenset({"message", "file", "chmod", "pathspec-from-file", "source", "conflict"})


def _pathspecs(access: Access) -> Callable[[list[Word], str | None, RefFn, GitResult], None]:
    def handle(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
        p = getopt(
            a,
            short="mFCcSs",
            long=_PATHSPECS_LONG,
        )
        for w in p.operands:
            ref(w, access, "argument", cwd)
        if has(p, "-f", "--force"):
            _replace(r, force=True)

    return handle


_CHECKOUT_LONG = frozenset({"conflict", "orphan", "pathspec-from-file"})


def _checkout(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    if any(w.value == "--" for w in a):
        for w in a[[w.value for w in a].index("--") + 1 :]:
            ref(w, "write", "argument", cwd)
    p = getopt(a, short="bBt", long=_CHECKOUT_LONG)
    if has(p, "-f", "--force", "-B") or any(w.value == "." for w in p.operands):
        _replace(r, force=True)


_RESTORE_LONG = frozenset({"source", "conflict", "pathspec-from-file"})


def _restore(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    p = getopt(a, short="s", long=_RESTORE_LONG)
    for w in p.operands:
        ref(w, "write", "argument", cwd)
    _replace(r, force=True)


def _reset(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    if any(w.value in ("--hard", "--merge", "--keep") for w in a):
        _replace(r, force=True)


_CLEAN_LONG = frozenset({"exclude"})


def _clean(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    p = getopt(a, short="e", long=_CLEAN_LONG)
    if has(p, "-n", "--dry-run"):
        return
    for w in p.operands or [Word("*", True, glob=True)]:
        ref(w, "delete", "argument", cwd)
    _replace(r, force=True, delete=True)


_FLAGS_LONG = frozenset({"message", "file"})


def _flags(
    force: tuple[str, ...], delete: tuple[str, ...]
) -> Callable[[list[Word], str | None, RefFn, GitResult], None]:
    def handle(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
        p = getopt(a, short="mFu", long=_FLAGS_LONG)
        _replace(r, force=has(p, *force), delete=has(p, *delete))

    return handle


def _stash(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    if a and a[0].value in ("drop", "clear"):
        _replace(r, delete=True)


_APPLY_LONG = frozenset({"directory", "exclude", "include", "whitespace", "build-fake-ancestor"})


def _apply(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    p = getopt(
        a,
        short="pC",
        long=_APPLY_LONG,
    )
    for w in p.operands:
        ref(w, "read", "argument", cwd)
    if not has(p, "--check", "--stat", "--numstat", "--summary", "--cached"):
        ref(Word("*", True, glob=True), "write", "argument", cwd)


_COMMIT_LONG = frozenset(
    {
        "message",
        "file",
        "reuse-message",
        "reedit-message",
        "fixup",
        "squash",
        "author",
        "date",
        "template",
        "cleanup",
        "trailer",
        "pathspec-from-file",
        "gpg-sign",
        "untracked-files",
    }
)


def _commit(a: list[Word], cwd: str | None, ref: RefFn, r: GitResult) -> None:
    p = getopt(
        a,
        short="mFCcSut",
        long=_COMMIT_LONG,
    )
    for w in values(p, "-F", "--file", "-t", "--template"):
        ref(w, "read", "option", cwd)
    if has(p, "--amend"):
        _replace(r, force=True)


_HANDLERS: dict[str, Callable[[list[Word], str | None, RefFn, GitResult], None]] = {
    "push": _push,
    "fetch": _fetch,
    "pull": _fetch,
    "clone": _clone,
    "remote": _remote,
    "ls-remote": _ls_remote,
    "submodule": _submodule,
    "config": _config,
    "add": _pathspecs("read"),
    "rm": _pathspecs("delete"),
    "checkout": _checkout,
    "switch": _flags(("-f", "--force", "--discard-changes", "-C"), ()),
    "restore": _restore,
    "reset": _reset,
    "clean": _clean,
    "branch": _flags(("-D", "-f", "--force", "-M", "-C"), ("-d", "-D", "--delete")),
    "tag": _flags(("-f", "--force"), ("-d", "--delete")),
    "stash": _stash,
    "apply": _apply,
    "am": _apply,
    "commit": _commit,
    "filter-branch": _flags(("-f", "--force", "--tree-filter", "--index-filter"), ()),
    "update-ref": _flags((), ("-d",)),
    "worktree": _worktree,
    "bisect": _bisect,
    "mv": _mv,
    "bundle": _bundle,
    "diff": _diff,
    "init": _init,
    "credential": _credential,
}
