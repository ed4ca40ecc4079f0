"""Network clients: the hosts ``curl``, ``wget``, ``pip``, ``npm``, ``ssh``, ``scp``, ``rsync``, ``nc``,
``telnet``, ``socat``, ``httpie``... reach, and the files they upload or download.

Each client is a small function ``(args, sink, program)`` in :data:`NETWORK`; URLs are read with
:func:`._urls.parse_url` (clients that accept ``host/path`` get a default scheme), ``[user@]host:path``
operands of ``scp``/``rsync``/``git`` are hosts, and ``file://`` URLs are local reads.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from .._lazyre import lazy_compile
from ._facts import UrlFact
from ._options import getopt, has, values
from ._programs import Sink
from ._urls import host_fact, parse_scp_like, parse_url, parse_user_host
from ._words import Word, expand_braces

_DYNAMIC_TAIL = lazy_compile(
    r"(?:\$\{[^}]*\}|\$\w+|\$\([^)]*\)|`[^`]*`)[\w-]*((?:\.[A-Za-z0-9-]+)+)\.?(?::\d+)?(?:/.*)?$"
)


def dynamic_host(value: str, sink: Sink, program: str) -> None:
    """A host name built at run time (``"$SECRET.evil.org"``) still reaches the domain written after
    the last expansion: that name's servers receive the query."""
    m = _DYNAMIC_TAIL.search(value.split("://", 1)[-1].rsplit("@", maxsplit=1)[-1][-512:])
    host = m.group(1).lstrip(".") if m is not None else ""
    if "." in host:
        sink.url(host_fact(host, raw=value, scheme="dns", via="argument", program=program))


def _urls(words: list[Word], sink: Sink, program: str, default_scheme: str | None = "http") -> None:
    for w in words:
        if not w.static:
            sink.opaque(f"{program}: destination is computed at run time: {w.value}")
            dynamic_host(w.value, sink, program)
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
        elif name in ("-K", "--config"):
            sink.ref(v, "read", "option")
            sink.opaque(f"curl {name} {v.value[:80]}: URLs, outputs and options come from that file")
        elif name in (
            "-T",
            "--upload-file",
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
        elif name in ("--url", "--doh-url", "--proxy1.0", "--referer", "-e"):
            if name != "-e" or "://" in v.value:
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
        elif name in ("-i", "--input-file", "-e", "--execute", "--config"):
            if name in ("-e", "--execute"):
                sink.opaque(f"wget {name} {v.value[:80]}: runs a wgetrc command")
            else:
                sink.ref(v, "read", "option")
                sink.opaque(f"wget {name} {v.value[:80]}: URLs or settings come from that file")
        elif name in (
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
    if sub == "config":
        if p.operands and p.operands[0].value in ("set", "unset", "edit"):
            where = "/etc/pip.conf" if has(p, "--global") else ".venv/pip.conf" if has(p, "--site") else None
            sink.ref(Word(where or "~/.config/pip/pip.conf", True), "write", "option")
            sink.opaque(f"{program} config {p.operands[0].value}: changes what later pip commands reach")
        return
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
            if not w.static:
                sink.opaque(f"{program}: the host is computed at run time: {w.value[:120]}")
                dynamic_host(w.value, sink, program)
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


REGISTRIES: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("npx", None): ("registry.npmjs.org",),
    ("pnpx", None): ("registry.npmjs.org",),
    ("bunx", None): ("registry.npmjs.org",),
    ("uvx", None): ("pypi.org", "files.pythonhosted.org"),
    ("pipx", None): ("pypi.org", "files.pythonhosted.org"),
    ("go", "install"): ("proxy.golang.org", "sum.golang.org"),
    ("go", "get"): ("proxy.golang.org", "sum.golang.org"),
    ("go", "mod"): ("proxy.golang.org", "sum.golang.org"),
    ("cargo", "install"): ("crates.io", "index.crates.io", "static.crates.io"),
    ("cargo", "add"): ("crates.io", "index.crates.io"),
    ("cargo", "fetch"): ("index.crates.io", "static.crates.io"),
    ("cargo", "update"): ("index.crates.io", "static.crates.io"),
    ("gem", "install"): ("rubygems.org", "index.rubygems.org"),
    ("gem", "update"): ("rubygems.org", "index.rubygems.org"),
    ("bundle", "install"): ("rubygems.org", "index.rubygems.org"),
    ("brew", "install"): ("formulae.brew.sh", "ghcr.io"),
    ("brew", "upgrade"): ("formulae.brew.sh", "ghcr.io"),
    ("composer", "install"): ("repo.packagist.org",),
    ("composer", "require"): ("repo.packagist.org",),
    ("deno", "install"): ("jsr.io", "registry.npmjs.org"),
    ("bun", "install"): ("registry.npmjs.org",),
    ("bun", "add"): ("registry.npmjs.org",),
    ("poetry", "install"): ("pypi.org", "files.pythonhosted.org"),
    ("poetry", "add"): ("pypi.org", "files.pythonhosted.org"),
    ("uv", "sync"): ("pypi.org", "files.pythonhosted.org"),
    ("uv", "add"): ("pypi.org", "files.pythonhosted.org"),
    ("uv", "lock"): ("pypi.org", "files.pythonhosted.org"),
    ("conda", "install"): ("conda.anaconda.org", "repo.anaconda.com"),
    ("mamba", "install"): ("conda.anaconda.org",),
}
"""``(launcher or program, subcommand)`` → the registry hosts it reaches by default."""

CONTAINER_PULLS = frozenset({"run", "pull", "create"})
OS_PACKAGES = frozenset({"apt", "apt-get", "aptitude", "dnf", "yum", "apk", "zypper", "pacman"})

LISTENERS: dict[str, tuple[str, ...]] = {
    "ngrok": ("ngrok.com", "tunnel.us.ngrok.com"),
    "cloudflared": ("cloudflare.com", "trycloudflare.com"),
    "lt": ("localtunnel.me",),
    "localtunnel": ("localtunnel.me",),
    "bore": ("bore.pub",),
    "serveo": ("serveo.net",),
    "tailscale": ("tailscale.com",),
    "frpc": (),
    "chisel": (),
    "http-server": (),
    "serve": (),
}
"""Servers and tunnels: they expose this machine to the network (and reach these hosts)."""
_LISTEN_MODULES = frozenset(
    {"http.server", "SimpleHTTPServer", "smtpd", "pyftpdlib", "xmlrpc.server", "uvicorn"}
)


def exposure(program: str, args: list[str], wrappers: tuple[str, ...]) -> str | None:
    """Why the command listens for connections from other machines (or opens a tunnel), or ``None``."""
    if program in LISTENERS:
        return f"{program} exposes this machine to the network"
    if program in _LISTEN_MODULES:
        return f"python -m {program} serves files to the network"
    if program in ("nc", "ncat", "netcat") and any(a.startswith("-") and "l" in a[1:] for a in args):
        return f"{program} -l listens for connections"
    if program == "socat" and any(
        a.upper().startswith(("TCP-LISTEN", "TCP4-LISTEN", "TCP6-LISTEN", "UDP-LISTEN")) for a in args
    ):
        return "socat listens for connections"
    if program in ("ssh", "autossh") and any(a in ("-R", "-D") or a.startswith(("-R", "-D")) for a in args):
        return f"{program} -R/-D opens a tunnel into this machine"
    if program == "php" and "-S" in args:
        return "php -S serves files to the network"
    if program == "busybox" and "httpd" in args:
        return "busybox httpd serves files"
    return None
