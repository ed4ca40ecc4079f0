"""What common programs do with their arguments: which are files read, written, deleted or executed,
which are hosts, and which carry code.

Each table entry is data (:class:`Spec`): the access of its file operands, how many leading operands
are not files (``grep PATTERN``, ``chmod MODE``), options that take a value (so the value is not taken
for a file) and options whose value *is* a file. Network clients are in :mod:`._network`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple, Protocol

from .._lazyre import lazy_compile
from ._facts import Access, UrlFact
from ._options import Parsed, getopt, has, values
from ._paths import is_stdin
from ._words import Word, literal

_NOTHING = Parsed([], [])


class Sink(Protocol):
    """Where a program analyser reports what it found (implemented by the shell walker)."""

    def ref(self, word: Word, access: Access, via: str) -> None: ...
    def url(self, fact: UrlFact | None) -> None: ...
    def opaque(self, reason: str) -> None: ...
    def shell_text(self, word: Word, source: str) -> None: ...


_NO_FILES: Mapping[str, Access] = MappingProxyType({})


class Spec(NamedTuple):
    access: Access
    skip: int = 0
    """Leading operands that are not files (pattern, mode, program text)."""
    last: Access | None = None
    """Access of the last operand when there are two or more (``cp SRC... DEST``)."""
    short: str = ""
    long: frozenset[str] = frozenset()
    files: Mapping[str, Access] = _NO_FILES
    """Options whose value is a file, with its access (``-o``: write, ``-f``: read)."""
    noskip: frozenset[str] = frozenset()
    """Options that supply what ``skip`` operands would (``grep -e PAT``, ``sed -e SCRIPT``)."""
    inplace: frozenset[str] = frozenset()
    """Options that turn reads into writes (``sed -i``, ``perl -i``)."""
    scripts: frozenset[str] = frozenset()
    """Options whose value is a file holding the program's own script (``awk -f``, ``make -f``)."""


def _s(
    access: Access,
    skip: int = 0,
    last: Access | None = None,
    short: str = "",
    long: str = "",
    files: dict[str, Access] | None = None,
    noskip: str = "",
    inplace: str = "",
    scripts: str = "",
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
        frozenset(scripts.split()),
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
            scripts="-f --file",
        ),
        "awk": _s(
            "read",
            skip=1,
            short="fvFi",
            long="file assign field-separator include",
            files={"-f": "read", "--file": "read"},
            noskip="-f --file",
            scripts="-f --file",
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
        "sponge": _s("write"),
        "dos2unix": _s("write", short="n", files={"-n": "write"}),
        "unix2dos": _s("write"),
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
            scripts="-f --file --makefile",
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
            if name in spec.scripts and value.static and is_stdin(value.value):
                sink.opaque(f"{program} {name} {value.value}: its program is read from standard input")
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


_SED_EXEC = lazy_compile(
    r"(?:^|[;{}\n])\s*(?:[0-9$]+|/[^/]*/)?(?:\s*,\s*(?:[0-9$]+|/[^/]*/))?\s*!?\s*[ewWrR](?:\s|$)"
)
_SED_SUBST_FLAGS = lazy_compile(
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


_AWK_RISK = lazy_compile(r"\bsystem\s*\(|\|\s*getline|\|&|\bprint[f]?\b[^;}]*(?:>|\|)|\bclose\s*\(|ENVIRON")


def _awk_program(p: Parsed, skip: int, sink: Sink) -> None:
    if skip and p.operands:
        prog = p.operands[0]
        if not prog.static:
            sink.opaque(f"awk program is computed at run time: {prog.value}")
        elif _AWK_RISK.search(prog.value):
            sink.opaque(
                f"awk program runs commands, writes files or reads the environment: {prog.value[:80]}"
            )
