"""Inline interpreter code (``python -c``, ``perl -e``, ``node -e``...): always opaque, but scanned.

The code is not run or parsed; its string literals and a few telltale calls say what it probably
touches: files (``open(``, ``.env``), the network (``socket``, ``urllib``, ``requests``, ``fetch(``) and
other programs (``subprocess``, ``os.system``, ``child_process``). Paths and hosts found this way
become facts with ``via="inline_code"`` so path and secret rules see them, and the touches go into the
opaque reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._lazyre import LazyPattern, lazy_compile
from ._facts import Access, UrlFact
from ._urls import host_fact, urls_in_text

_LITERAL = lazy_compile(r"""'([^'\\\n]{1,1024})'|"([^"\\\n]{1,1024})"|`([^`\\\n]{1,1024})`""")
_PATHLIKE = lazy_compile(
    r"^(?:[~./]|[\w.\-]+/)|(?:^|/)\.?(?:env|netrc|pgpass|npmrc|pypirc|git-credentials|bash_history|ssh|aws|kube)"
    r"(?:\.[\w.-]+)?$|^[\w.\-]+\.(?:env|pem|key|json|ya?ml|toml|ini|cfg|conf|txt|py|js|ts|sh|db|sqlite3?|csv|log|md|lock|crt)$"
)
_TOUCHES: tuple[tuple[str, LazyPattern[str]], ...] = (
    (
        "files",
        lazy_compile(
            r"\bopen\s*\(|\bfopen\b|file_(?:get|put)_contents|\bPath\s*\(|\bfs\.|\bFile\.|\bIO\.|readFile|writeFile|\.read_text|\.write_text|<\s*\$|\bunlink|\bremove\s*\(|rmtree|\bos\.(?:remove|rename|replace|mkdir|makedirs|chmod|listdir|walk|scandir)|shutil|\bglob\b"
        ),
    ),
    (
        "secrets",
        lazy_compile(r"\.env\b|environ|getenv|process\.env|\$ENV|id_rsa|credentials|\.netrc|\.aws|\.ssh"),
    ),
    (
        "network",
        lazy_compile(
            r"socket|urllib|requests|httpx|http\.client|aiohttp|\bfetch\s*\(|XMLHttpRequest|Net::|LWP|\bhttps?\.(?:get|request)|curl_|fsockopen|TCPSocket|\bnet\.|websocket|smtplib|ftplib|paramiko"
        ),
    ),
    (
        "processes",
        lazy_compile(
            r"subprocess|os\.system|os\.popen|os\.exec|os\.spawn|pty\.spawn|child_process|\bsystem\s*\(|\bexec\s*\(|\beval\s*\(|`|\bspawn|\bpopen|Process\.|Runtime\.|__import__|importlib|compile\s*\("
        ),
    ),
)
_DELETE = lazy_compile(r"\bunlink|\bremove\s*\(|rmtree|rmdir|\brm_rf|\bdelete\b|unlinkSync|rmSync")
_WRITE = lazy_compile(
    r"""['"](?:w|a|x|wb|ab|w\+|a\+|r\+)['"]|\.write|write_text|write_bytes|writeFile|appendFile|file_put_contents|\bprint\s*>|\bopen\s*\(\s*[^,)]*,\s*['"]?>|rename|replace\s*\(|chmod|truncate|makedirs|mkdir|copy"""
)
_HOST_CALL = lazy_compile(
    r"""(?:connect|create_connection|gethostbyname|getaddrinfo|HTTPS?Connection|Socket|TCPSocket|fsockopen|INET->new|createConnection|connect_ex)\s*\(\s*\(?\s*(?:PeerAddr\s*=>\s*)?['"]([^'"\s:/]+)"""
)


@dataclass(slots=True)
class CodeScan:
    paths: list[tuple[str, Access]] = field(default_factory=list)
    urls: list[UrlFact] = field(default_factory=list)
    touches: list[str] = field(default_factory=list)


def scan(code: str, *, language: str, program: str | None) -> CodeScan:
    """What inline ``code`` in ``language`` probably touches."""
    code = code[:65_536]
    out = CodeScan()
    out.touches = [name for name, rx in _TOUCHES if rx.search(code)]
    access: Access = "delete" if _DELETE.search(code) else "write" if _WRITE.search(code) else "read"
    out.urls = urls_in_text(code, via="inline_code", program=program)
    for m in _HOST_CALL.finditer(code):
        out.urls.append(
            host_fact(m.group(1), raw=m.group(0), scheme="tcp", via="inline_code", program=program)
        )
    seen: set[str] = set()
    for m in _LITERAL.finditer(code):
        lit = m.group(1) or m.group(2) or m.group(3) or ""
        if lit in seen or "://" in lit or any(c.isspace() for c in lit):
            continue
        if _PATHLIKE.search(lit):
            seen.add(lit)
            out.paths.append((lit, access))
        if len(out.paths) >= 64:
            break
    return out


def reason(language: str, source: str, touches: list[str]) -> str:
    what = f" touching {', '.join(touches)}" if touches else ""
    return f"inline {language} code ({source}){what}: cannot be checked statically"
