"""What common programs do with their arguments: which are files read, written, deleted or executed,
which are hosts, and which carry code.

Each table entry is data (:class:`Spec`): the access of its file operands, how many leading operands
are not files (``grep PATTERN``, ``chmod MODE``), options that take a value (so the value is not taken
for a file) and options whose value *is* a file. Network clients have small functions of their own.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ._facts import Access, UrlFact
from ._options import Parsed, getopt, has, values
from ._urls import host_fact, parse_scp_like, parse_url, parse_user_host
from ._words import Word, expand_braces, literal

_NOTHING = Parsed([], [])


class Sink(Protocol):
    """Where a program analyser reports what it found (implemented by the shell walker)."""

    def ref(self, word: Word, access: Access, via: str) -> None: ...
    def url(self, fact: UrlFact | None) -> None: ...
    def opaque(self, reason: str) -> None: ...
    def shell_text(self, word: Word, source: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Spec:
    access: Access
    skip: int = 0
    """Leading operands that are not files (pattern, mode, program text)."""
    last: Access | None = None
    """Access of the last operand when there are two or more (``cp SRC... DEST``)."""
    short: str = ""
    long: frozenset[str] = frozenset()
    files: dict[str, Access] = field(default_factory=dict)
    """Options whose value is a file, with its access (``-o``: write, ``-f``: read)."""
    noskip: frozenset[str] = frozenset()
    """Options that supply what ``skip`` operands would (``grep -e PAT``, ``sed -e SCRIPT``)."""
    inplace: frozenset[str] = frozenset()
    """Options that turn reads into writes (``sed -i``, ``perl -i``)."""


def _s(
    access: Access,
    skip: int = 0,
    last: Access | None = None,
    short: str = "",
    long: str = "",
    files: dict[str, Access] | None = None,
    noskip: str = "",
    inplace: str = "",
) -> Spec:
    return Spec(
        access,
        skip,
        last,
        short,
        frozenset(long.split()),
        files or {},
        frozenset(noskip.split()),
        frozenset(inplace.split()),
    )


_READ_PLAIN = (
    "cat tac nl wc file stat md5sum sha1sum sha224sum sha256sum sha384sum sha512sum b2sum cksum strings "
    "fold fmt bat view less more most column paste readlink realpath cmp comm zcat bzcat xzcat zless "
    "zmore lsattr getfacl"
)
SPECS: dict[str, Spec] = {name: _s("read") for name in _READ_PLAIN.split()}
SPECS.update(
    {
        "head": _s("read", short="nc", long="lines bytes"),
        "tail": _s("read", short="ncsF", long="lines bytes sleep-interval pid"),
        "sort": _s(
            "read",
            short="kotSTy",
            long=("key output field-separator buffer-size temporary-directory files0-from"),
            files={"-o": "write", "--output": "write", "--files0-from": "read"},
        ),
        "uniq": _s("read", last="write", short="fsw", long="skip-fields skip-chars check-chars"),
        "cut": _s("read", short="bcdf", long="bytes characters delimiter fields output-delimiter"),
        "tr": _s("read", skip=99),
        "xxd": _s("read", last="write", short="cglos", long="cols groupsize len seek offset name"),
        "od": _s("read", short="AjNStw"),
        "hexdump": _s("read", short="enNs"),
        "base64": _s("read", short="w", long="wrap"),
        "base32": _s("read", short="w", long="wrap"),
        "diff": _s(
            "read",
            short="xXFICLDU",
            long=("exclude exclude-from label ignore-matching-lines unified context from-file to-file"),
            files={"-X": "read", "--exclude-from": "read"},
        ),
        "iconv": _s(
            "read", short="fto", long="from-code to-code output", files={"-o": "write", "--output": "write"}
        ),
        "ls": _s(
            "read",
            short="ITw",
            long=(
                "ignore hide tabsize width format sort time-style color quoting-style indicator-style "
                "block-size"
            ),
        ),
        "tree": _s("read", short="LIPo", long="filelimit charset", files={"-o": "write"}),
        "du": _s(
            "read",
            short="dBtX",
            long=("max-depth block-size threshold exclude exclude-from time-style"),
            files={"-X": "read"},
        ),
        "grep": _s(
            "read",
            skip=1,
            short="efmABCD",
            long=(
                "regexp file max-count after-context before-context context include exclude exclude-dir "
                "exclude-from label color colour devices directories binary-files"
            ),
            files={"-f": "read", "--file": "read", "--exclude-from": "read"},
            noskip="-e --regexp -f --file",
        ),
        "rg": _s(
            "read",
            skip=1,
            short="efmABCgtTEMjr",
            long=(
                "regexp file max-count glob type type-not encoding max-columns threads replace "
                "after-context before-context context iglob sort sortr"
            ),
            files={"-f": "read", "--file": "read"},
            noskip="-e --regexp -f --file",
        ),
        "ag": _s("read", skip=1, short="ABCGmg", long="ignore file-search-regex"),
        "ack": _s("read", skip=1, short="ABCgm", long="type ignore-dir"),
        "sed": _s(
            "read",
            skip=1,
            short="efl",
            long="expression file line-length",
            files={"-f": "read", "--file": "read"},
            noskip="-e --expression -f --file",
            inplace="-i --in-place",
        ),
        "awk": _s(
            "read",
            skip=1,
            short="fvFi",
            long="file assign field-separator include",
            files={"-f": "read", "--file": "read"},
            noskip="-f --file",
        ),
        "jq": _s(
            "read",
            skip=1,
            short="fL",
            long=("from-file indent tab arg argjson slurpfile rawfile args jsonargs"),
            files={"-f": "read", "--from-file": "read"},
            noskip="-f --from-file -n --null-input",
        ),
        "yq": _s(
            "read", skip=1, short="IoP", long="indent output-format front-matter", inplace="-i --inplace"
        ),
        "tee": _s("write"),
        "touch": _s("write", short="rdt", long="reference date", files={"-r": "read", "--reference": "read"}),
        "mkdir": _s("write", short="mZ", long="mode context"),
        "mktemp": _s("write", short="p", long="tmpdir suffix"),
        "truncate": _s(
            "write", short="sr", long="size reference", files={"-r": "read", "--reference": "read"}
        ),
        "chmod": _s("write", skip=1, long="reference", noskip="--reference"),
        "chown": _s("write", skip=1, long="reference from", noskip="--reference"),
        "chgrp": _s("write", skip=1, long="reference", noskip="--reference"),
        "chattr": _s("write", skip=1, short="vpR"),
        "setfacl": _s("write", short="mMxX", long="modify modify-file remove remove-file set set-file"),
        "vim": _s("write", short="cSTuUoOpwWs"),
        "vi": _s("write", short="cSTuUoOpwWs"),
        "nvim": _s("write", short="cSuUoOpwWs"),
        "nano": _s("write", short="oT"),
        "emacs": _s("write"),
        "ed": _s("write", short="p"),
        "code": _s("write"),
        "sudoedit": _s("write"),
        "shred": _s("write", short="ns", long="iterations size random-source"),
        "cp": _s(
            "read",
            last="write",
            short="tSb",
            long=("target-directory suffix backup sparse reflink preserve no-preserve"),
            files={"-t": "write", "--target-directory": "write"},
        ),
        "mv": _s(
            "delete",
            last="write",
            short="tS",
            long="target-directory suffix backup",
            files={"-t": "write", "--target-directory": "write"},
        ),
        "ln": _s(
            "read",
            last="write",
            short="tS",
            long="target-directory suffix backup",
            files={"-t": "write", "--target-directory": "write"},
        ),
        "install": _s(
            "read",
            last="write",
            short="tmogS",
            long="target-directory mode owner group suffix",
            files={"-t": "write", "--target-directory": "write"},
        ),
        "rm": _s("delete"),
        "rmdir": _s("delete"),
        "unlink": _s("delete"),
        "srm": _s("delete"),
        "trash": _s("delete"),
        "trash-put": _s("delete"),
        "gzip": _s("write", short="S", long="suffix"),
        "gunzip": _s("write", short="S", long="suffix"),
        "bzip2": _s("write"),
        "xz": _s("write", short="TF"),
        "zip": _s("write", short="bnxit", files={"-x": "read"}),
        "unzip": _s("read", short="dx", files={"-d": "write"}),
        "patch": _s(
            "write",
            short="pidDiBorFVYzg",
            long="strip input directory reject-file output backup-if-mismatch",
            files={"-i": "read", "--input": "read", "-o": "write", "--output": "write", "-r": "write"},
        ),
        "source": _s("exec"),
        ".": _s("exec"),
        "make": _s(
            "read",
            skip=99,
            short="fCIjlo W",
            long=("file directory include-dir jobs load-average old-file what-if"),
            files={"-f": "exec", "--file": "exec"},
        ),
    }
)
SPECS["egrep"] = SPECS["fgrep"] = SPECS["grep"]
SPECS["gawk"] = SPECS["mawk"] = SPECS["nawk"] = SPECS["awk"]
SPECS["gsed"] = SPECS["sed"]
SPECS["view"] = _s("read")


def apply_spec(spec: Spec, program: str, args: list[Word], sink: Sink) -> Parsed:
    if not args:
        return _NOTHING
    p = getopt(args, short=spec.short, long=spec.long)
    for name, value in p.options:
        file_access = spec.files.get(name)
        if file_access is not None and value is not None:
            sink.ref(value, file_access, "option")
    inplace = bool(spec.inplace) and any(
        name in spec.inplace or (name.startswith("-i") and "-i" in spec.inplace) for name, _ in p.options
    )
    # BSD ``sed -i '' SCRIPT FILE``: an empty suffix operand
    if program in ("sed", "gsed") and inplace and len(p.operands) > 1 and p.operands[0].value == "":
        p.operands.pop(0)
    skip = 0 if has(p, *spec.noskip) else spec.skip
    operands = p.operands[skip:]
    if program in ("sed", "gsed"):
        _sed_scripts(p, skip, sink)
    if program in ("awk", "gawk", "mawk", "nawk"):
        _awk_program(p, skip, sink)
        if any(v.value == "inplace" for v in values(p, "-i", "--include")):
            inplace = True
    if program in ("ln",) and len(operands) == 1:
        operands = [*operands, literal(operands[0].value.rstrip("/").rsplit("/", 1)[-1] or ".")]
    if program == "mv" and has(p, "-t", "--target-directory"):
        pass
    elif (
        spec.last is not None
        and (len(operands) >= 2 or (program == "uniq" and len(operands) == 2))
        and not has(p, "-t", "--target-directory")
    ):
        sink.ref(operands[-1], spec.last, "argument")
        last, operands = operands[-1], operands[:-1]
    else:
        last = None
    access: Access = "write" if inplace else spec.access
    if program == "ln":
        access = "read"
        if has(p, "-s", "--symbolic"):
            # The target is not opened now, but a link made to reach it is a way to read it later.
            # A relative target is relative to the link's directory.
            where = last.value.rsplit("/", 1)[0] + "/" if last is not None and "/" in last.value else ""
            for w in operands:
                target = w if w.value.startswith(("/", "~")) or not where else Word(where + w.value, w.static)
                sink.ref(target, "read", "link_target")
            return p
    if program == "shred" and has(p, "-u", "--remove"):
        access = "delete"
    for w in operands:
        if w.procsub:
            continue
        sink.ref(w, access, "argument")
    return p


_SED_EXEC = re.compile(
    r"(?:^|[;{}\n])\s*(?:[0-9$]+|/[^/]*/)?(?:\s*,\s*(?:[0-9$]+|/[^/]*/))?\s*!?\s*[ewWrR](?:\s|$)"
)
_SED_SUBST_FLAGS = re.compile(
    r"(?:^|[;{}\n])\s*(?:[0-9$]+|/[^/]*/)?\s*s(.)(?:\\.|(?!\1).)*\1(?:\\.|(?!\1).)*\1([a-zA-Z0-9]*)"
)


def _sed_scripts(p: Parsed, skip: int, sink: Sink) -> None:
    scripts = values(p, "-e", "--expression")
    if skip and p.operands:
        scripts.append(p.operands[0])
    for s in scripts:
        if not s.static:
            sink.opaque(f"sed script is computed at run time: {s.value}")
            continue
        flags = "".join(m.group(2) for m in _SED_SUBST_FLAGS.finditer(s.value))
        if _SED_EXEC.search(s.value) or "e" in flags or "w" in flags:
            sink.opaque(f"sed script runs commands or writes files: {s.value[:80]}")


_AWK_RISK = re.compile(r"\bsystem\s*\(|\|\s*getline|\|&|\bprint[f]?\b[^;}]*(?:>|\|)|\bclose\s*\(|ENVIRON")


def _awk_program(p: Parsed, skip: int, sink: Sink) -> None:
    if skip and p.operands:
        prog = p.operands[0]
        if not prog.static:
            sink.opaque(f"awk program is computed at run time: {prog.value}")
        elif _AWK_RISK.search(prog.value):
            sink.opaque(
                f"awk program runs commands, writes files or reads the environment: {prog.value[:80]}"
            )


# -- network clients ----------------------------------------------------------------------------------


def _urls(words: list[Word], sink: Sink, program: str, default_scheme: str | None = "http") -> None:
    for w in words:
        if not w.static:
            sink.opaque(f"{program}: destination is computed at run time: {w.value}")
            continue
        expanded, _ = expand_braces(w.value) if "{" in w.value else ([w.value], True)
        for v in expanded:
            if v.lower().startswith("file://"):
                sink.ref(Word(v[7:], True), "read", "argument")
                continue
            sink.url(parse_url(v, via="argument", program=program, default_scheme=default_scheme))


_CURL_LONG = frozenset(
    (
        "output",
        "upload-file",
        "data",
        "data-binary",
        "data-raw",
        "data-urlencode",
        "data-ascii",
        "json",
        "form",
        "form-string",
        "config",
        "proxy",
        "header",
        "user-agent",
        "referer",
        "user",
        "request",
        "cookie",
        "cookie-jar",
        "dump-header",
        "write-out",
        "max-time",
        "range",
        "continue-at",
        "speed-limit",
        "speed-time",
        "time-cond",
        "proxy-user",
        "cert",
        "key",
        "cacert",
        "capath",
        "url",
        "resolve",
        "connect-to",
        "unix-socket",
        "abstract-unix-socket",
        "interface",
        "retry",
        "retry-delay",
        "retry-max-time",
        "connect-timeout",
        "limit-rate",
        "max-redirs",
        "output-dir",
        "proto",
        "proto-redir",
        "quote",
        "trace",
        "trace-ascii",
        "stderr",
        "netrc-file",
        "preproxy",
        "socks4",
        "socks4a",
        "socks5",
        "socks5-hostname",
        "variable",
        "expand-url",
    )
)


def _curl(args: list[Word], sink: Sink) -> None:
    p = getopt(
        args,
        short="oTdFKxHAeuXbcDwmrCYyzUEQt",
        long=_CURL_LONG,
    )
    for name, v in p.options:
        if v is None:
            continue
        if (
            name
            in (
                "-o",
                "--output",
                "-c",
                "--cookie-jar",
                "-D",
                "--dump-header",
                "--trace",
                "--trace-ascii",
                "--stderr",
            )
            and v.value != "-"
        ) or name in ("--output-dir",):
            sink.ref(v, "write", "option")
        elif name in (
            "-T",
            "--upload-file",
            "-K",
            "--config",
            "-E",
            "--cert",
            "--key",
            "--cacert",
            "--netrc-file",
            "--unix-socket",
        ):
            sink.ref(v, "read", "option")
        elif (
            name in ("-d", "--data", "--data-binary", "--data-urlencode", "--data-ascii", "--json")
            and v.value.startswith("@")
            and v.value != "@-"
        ):
            sink.ref(Word(v.value[1:], v.static), "read", "option")
        elif (name in ("-F", "--form") and "=@" in v.value) or (name in ("-F", "--form") and "=<" in v.value):
            sink.ref(
                Word(re.split(r"=[@<]", v.value, maxsplit=1)[1].split(";", 1)[0], v.static), "read", "option"
            )
        elif name in ("-b", "--cookie") and "=" not in v.value:
            sink.ref(v, "read", "option")
        elif name in (
            "-x",
            "--proxy",
            "--preproxy",
            "--socks4",
            "--socks4a",
            "--socks5",
            "--socks5-hostname",
        ):
            sink.url(parse_url(v.value, via="option", program="curl", default_scheme="http"))
        elif name == "--url":
            _urls([v], sink, "curl")
        elif name == "--connect-to" and v.value.count(":") >= 3:
            sink.url(
                host_fact(v.value.split(":")[2], raw=v.value, scheme="tcp", via="option", program="curl")
            )
        elif name == "--resolve" and v.value.count(":") >= 2:
            sink.url(
                host_fact(
                    v.value.split(":", 2)[2].strip("[]"),
                    raw=v.value,
                    scheme="tcp",
                    via="option",
                    program="curl",
                )
            )
    _urls(p.operands, sink, "curl")


_WGET_LONG = frozenset(
    (
        "output-document",
        "output-file",
        "append-output",
        "directory-prefix",
        "input-file",
        "base",
        "execute",
        "user-agent",
        "tries",
        "timeout",
        "wait",
        "level",
        "quota",
        "post-data",
        "post-file",
        "body-file",
        "header",
        "user",
        "password",
        "load-cookies",
        "save-cookies",
        "ca-certificate",
        "certificate",
        "private-key",
    )
)


def _wget(args: list[Word], sink: Sink) -> None:
    p = getopt(
        args,
        short="OoaPiBeUtTwlQ",
        long=_WGET_LONG,
    )
    for name, v in p.options:
        if v is None:
            continue
        if (
            name
            in (
                "-O",
                "--output-document",
                "-o",
                "--output-file",
                "-a",
                "--append-output",
                "-P",
                "--directory-prefix",
                "--save-cookies",
            )
            and v.value != "-"
        ):
            sink.ref(v, "write", "option")
        elif name in (
            "-i",
            "--input-file",
            "--post-file",
            "--body-file",
            "--load-cookies",
            "--ca-certificate",
            "--certificate",
            "--private-key",
        ):
            sink.ref(v, "read", "option")
        elif name in ("-e", "--execute") and re.match(r"(?i)\s*(https?_proxy|ftp_proxy)\s*=", v.value):
            sink.url(
                parse_url(
                    v.value.split("=", 1)[1].strip(), via="option", program="wget", default_scheme="http"
                )
            )
    _urls(p.operands, sink, "wget")


_PIP_DEFAULT = ("pypi.org", "files.pythonhosted.org")


_PIP_LONG = frozenset(
    (
        "index-url",
        "extra-index-url",
        "find-links",
        "requirement",
        "constraint",
        "editable",
        "trusted-host",
        "proxy",
        "target",
        "prefix",
        "root",
        "src",
        "cache-dir",
        "python",
        "platform",
        "report",
    )
)


def _pip(args: list[Word], sink: Sink, program: str = "pip") -> None:
    if not args or not args[0].static:
        return
    sub = args[0].value
    p = getopt(
        args[1:],
        short="iferct",
        long=_PIP_LONG,
    )
    if sub not in ("install", "download", "wheel", "index", "search", "lock"):
        return
    explicit = False
    for name, v in p.options:
        if v is None:
            continue
        if name in ("-i", "--index-url", "--extra-index-url", "--proxy"):
            explicit = explicit or name in ("-i", "--index-url")
            sink.url(parse_url(v.value, via="option", program=program, default_scheme="https"))
        elif name in ("-f", "--find-links", "-e", "--editable"):
            if "://" in v.value:
                _urls(
                    [
                        Word(
                            v.value.split("+", 1)[-1]
                            if v.value.startswith(("git+", "hg+", "svn+", "bzr+"))
                            else v.value,
                            v.static,
                        )
                    ],
                    sink,
                    program,
                )
            else:
                sink.ref(v, "read", "option")
        elif name == "--trusted-host":
            sink.url(host_fact(v.value, raw=v.value, scheme="https", via="option", program=program))
        elif name in ("-r", "--requirement", "-c", "--constraint"):
            sink.ref(v, "read", "option")
        elif name in ("-t", "--target", "--prefix", "--root"):
            sink.ref(v, "write", "option")
    if not explicit and not has(p, "--no-index"):
        for h in _PIP_DEFAULT:
            sink.url(host_fact(h, raw=h, scheme="https", via="default", program=program))
    for w in p.operands:
        v_ = w.value
        if "://" in v_:
            url = v_.split("@", 1)[1].strip() if " @ " in v_ or ("@" in v_.split("://", 1)[0]) else v_
            url = url.split("+", 1)[1] if url.startswith(("git+", "hg+", "svn+", "bzr+")) else url
            _urls([Word(url, w.static)], sink, program)
        elif v_.startswith((".", "/", "~")) or v_.endswith((".whl", ".tar.gz", ".zip")):
            sink.ref(w, "read", "argument")


_NPM_LONG = frozenset({"registry", "prefix", "cache", "userconfig"})


def _npm(args: list[Word], sink: Sink, program: str = "npm") -> None:
    p = getopt(args, long=_NPM_LONG)
    regs = values(p, "--registry")
    for r in regs:
        sink.url(parse_url(r.value, via="option", program=program, default_scheme="https"))
    ops = [w.value for w in p.operands]
    if ops and ops[0] in ("install", "i", "add", "ci", "update", "publish", "view", "info") and not regs:
        sink.url(
            host_fact(
                "registry.npmjs.org", raw="registry.npmjs.org", scheme="https", via="default", program=program
            )
        )
    if len(ops) >= 4 and ops[0] == "config" and ops[1] == "set" and ops[2] == "registry":
        sink.url(parse_url(ops[3], via="argument", program=program, default_scheme="https"))


def _ssh(args: list[Word], sink: Sink, program: str = "ssh") -> None:
    p = getopt(args, short="BbcDEeFIiJLlmOoPpQRSWw", stop_at_operand=True)
    for name, v in p.options:
        if v is None:
            continue
        if name == "-J":
            for hop in v.value.split(","):
                sink.url(_ssh_host(hop, program))
        elif name == "-o":
            key = v.value.split("=", 1)[0].split(None, 1)[0].lower() if v.value.strip() else ""
            if key in ("proxycommand", "localcommand", "permitlocalcommand", "knownhostscommand"):
                sink.opaque(f"{program} -o {v.value}: runs a local command")
            elif key in ("proxyjump", "hostname"):
                sink.url(_ssh_host(re.split(r"[=\s]", v.value, maxsplit=1)[-1].strip(), program))
        elif name in ("-F", "-i", "-E", "-S"):
            sink.ref(v, "read" if name in ("-F", "-i") else "write", "option")
    if p.operands:
        sink.url(_ssh_host(p.operands[0].value, program) if p.operands[0].static else None)
        if not p.operands[0].static:
            sink.opaque(f"{program}: destination is computed at run time")


def _ssh_host(value: str, program: str) -> UrlFact | None:
    if "://" in value:
        return parse_url(value, via="ssh", program=program)
    user, host = parse_user_host(value)
    port = None
    if host.count(":") == 1:
        host, _, port_text = host.partition(":")
        port = int(port_text) if port_text.isdigit() and len(port_text) < 6 else None
    if not host:
        return None
    return host_fact(
        host, raw=value, scheme="ssh", port=port, via="ssh", program=program, had_userinfo=user is not None
    )


_COPY_REMOTE_LONG = frozenset(
    {
        "rsh",
        "exclude",
        "exclude-from",
        "include",
        "include-from",
        "files-from",
        "filter",
        "temp-dir",
        "partial-dir",
        "log-file",
        "password-file",
        "port",
        "rsync-path",
        "backup-dir",
        "link-dest",
        "compare-dest",
        "copy-dest",
        "chmod",
        "chown",
        "timeout",
        "bwlimit",
        "max-size",
        "min-size",
        "out-format",
        "info",
        "debug",
    }
)


def _copy_remote(args: list[Word], sink: Sink, program: str) -> None:
    short = "cFiJlPSoDX" if program in ("scp", "sftp") else "eBfT"
    p = getopt(
        args,
        short=short,
        long=_COPY_REMOTE_LONG,
    )
    for name, opt in p.options:
        if opt is None:
            continue
        if name in ("-e", "--rsh", "--rsync-path"):
            sink.shell_text(opt, f"{program} {name}")
        elif name == "-J":
            sink.url(_ssh_host(opt.value, program))
        elif name in ("--exclude-from", "--include-from", "--files-from", "--password-file", "-F", "-i"):
            sink.ref(opt, "read", "option")
    delete = any(n.startswith("--delete") or n == "--remove-source-files" for n, _ in p.options)
    ops = p.operands
    for idx, w in enumerate(ops):
        last = idx == len(ops) - 1 and len(ops) > 1
        if not w.static:
            sink.ref(w, "write" if last else "read", "argument")
            continue
        v = w.value
        remote = v.split("::", 1)[0] if "::" in v and "://" not in v else None
        scp = parse_scp_like(v)
        if "://" in v:
            sink.url(parse_url(v, via="argument", program=program))
        elif remote is not None:
            sink.url(_ssh_host(remote, program))
        elif scp is not None:
            sink.url(
                host_fact(
                    scp[1],
                    raw=v,
                    scheme="ssh",
                    via="argument",
                    program=program,
                    had_userinfo=scp[0] is not None,
                )
            )
        else:
            sink.ref(w, "write" if last else "read", "argument")
            if last and delete:
                sink.ref(w, "delete", "argument")


_NC_LONG = frozenset({"exec", "sh-exec", "lua-exec", "proxy", "proxy-type", "source", "wait"})


def _nc(args: list[Word], sink: Sink, program: str = "nc") -> None:
    p = getopt(
        args,
        short="pswxXiqOITeciPMmW",
        long=_NC_LONG,
    )
    for name, v in p.options:
        if name in ("-e", "-c", "--exec", "--sh-exec", "--lua-exec"):
            sink.opaque(f"{program} {name}: connects a program to the network")
        elif name in ("-x", "--proxy") and v is not None:
            sink.url(
                host_fact(v.value.rsplit(":", 1)[0], raw=v.value, scheme="tcp", via="option", program=program)
            )
    if has(p, "-l", "--listen"):
        return
    if p.operands:
        port = p.operands[1].value if len(p.operands) > 1 else None
        sink.url(
            host_fact(
                p.operands[0].value,
                raw=p.operands[0].value,
                scheme="tcp",
                port=int(port) if port and port.isdigit() and len(port) < 6 else None,
                via="argument",
                program=program,
            )
            if p.operands[0].static
            else None
        )


def _first_host(
    short: str = "", long: str = "", scheme: str = "tcp", host_opts: tuple[str, ...] = ()
) -> Callable[[list[Word], Sink, str], None]:
    long_opts = frozenset(long.split())

    def handle(args: list[Word], sink: Sink, program: str) -> None:
        p = getopt(args, short=short, long=long_opts)
        hosts = values(p, *host_opts) if host_opts else []
        if not host_opts:
            hosts = [w for w in p.operands if not w.value.startswith("@")][:1]
            hosts += [Word(w.value[1:], w.static) for w in p.operands if w.value.startswith("@")]
        for w in hosts:
            if w.static:
                user, host = parse_user_host(w.value)
                if "://" in w.value:
                    sink.url(parse_url(w.value, via="argument", program=program))
                elif host:
                    sink.url(
                        host_fact(
                            host.split(":", 1)[0] if host.count(":") == 1 else host,
                            raw=w.value,
                            scheme=scheme,
                            via="argument",
                            program=program,
                            had_userinfo=user is not None,
                        )
                    )

    return handle


def _socat(args: list[Word], sink: Sink, program: str) -> None:
    for w in args:
        v = w.value
        head = v.split(":", 1)[0].upper()
        if head in ("EXEC", "SYSTEM"):
            sink.opaque(f"socat {head}: runs a program")
        elif head.startswith(("TCP", "UDP", "SSL", "OPENSSL", "SCTP", "SOCKS", "PROXY")) and ":" in v:
            host = v.split(":")[1].split(",", 1)[0]
            sink.url(host_fact(host, raw=v, scheme="tcp", via="argument", program=program))


_HTTPIE_LONG = frozenset({"auth", "auth-type", "output", "session", "proxy", "verify", "cert", "cert-key"})


def _httpie(args: list[Word], sink: Sink, program: str) -> None:
    p = getopt(
        args,
        short="abfAo",
        long=_HTTPIE_LONG,
    )
    ops = [
        w
        for w in p.operands
        if w.value.upper() not in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
    ]
    if ops:
        default = "https" if program == "https" else "http"
        v = ops[0].value
        if v.startswith(":"):
            v = "localhost" + v
        _urls([Word(v, ops[0].static)], sink, program, default)


def _openssl(args: list[Word], sink: Sink, program: str) -> None:
    p = getopt(args[1:], short="", long=frozenset())
    for name, v in itertools.pairwise(args):
        if name.value == "-connect":
            sink.url(
                host_fact(v.value.rsplit(":", 1)[0], raw=v.value, scheme="tls", via="option", program=program)
            )
        elif name.value in ("-in", "-inkey", "-CAfile", "-cert", "-key"):
            sink.ref(v, "read", "option")
        elif name.value == "-out":
            sink.ref(v, "write", "option")
    del p


NETWORK: dict[str, Callable[[list[Word], Sink, str], None]] = {
    "curl": lambda a, s, _p: _curl(a, s),
    "wget": lambda a, s, _p: _wget(a, s),
    "pip": _pip,
    "pip3": _pip,
    "npm": _npm,
    "pnpm": _npm,
    "yarn": _npm,
    "ssh": _ssh,
    "autossh": _ssh,
    "mosh": _ssh,
    "sftp": _copy_remote,
    "scp": _copy_remote,
    "rsync": _copy_remote,
    "nc": _nc,
    "ncat": _nc,
    "netcat": _nc,
    "telnet": _first_host(scheme="telnet"),
    "ftp": _first_host(scheme="ftp"),
    "dig": _first_host(short="bcfkpqty"),
    "nslookup": _first_host(),
    "host": _first_host(short="cNRtW"),
    "ping": _first_host(short="cfiIlmMpQsStTwW"),
    "ping6": _first_host(short="cfiIlmMpQsStTwW"),
    "traceroute": _first_host(short="fFgimNpqswz"),
    "mysql": _first_host(short="hPuDe", long="host port user database execute", host_opts=("-h", "--host")),
    "psql": _first_host(
        short="hpUdcf", long="host port username dbname command file", host_opts=("-h", "--host")
    ),
    "redis-cli": _first_host(short="hpan", host_opts=("-h",)),
    "mongo": _first_host(long="host", host_opts=("--host",)),
    "mongosh": _first_host(long="host", host_opts=("--host",)),
    "socat": _socat,
    "http": _httpie,
    "https": _httpie,
    "xh": _httpie,
    "aria2c": lambda a, s, p: _urls([w for w in a if not w.value.startswith("-")], s, p),
    "lynx": lambda a, s, p: _urls([w for w in a if not w.value.startswith("-")], s, p),
    "w3m": lambda a, s, p: _urls([w for w in a if not w.value.startswith("-")], s, p),
    "openssl": _openssl,
}
