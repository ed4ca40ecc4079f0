"""URLs and hosts, read the way a client will connect.

::

    >>> parse_url("https://allowed.org@evil.example/").host
    'evil.example'
    >>> parse_url("http://0x7f000001/").is_loopback
    True
    >>> str(parse_url("http://[::ffff:169.254.169.254]/").ip), parse_url("http://[::ffff:a9fe:a9fe]/").is_metadata
    ('169.254.169.254', True)

The host is what remains after the userinfo (up to the *last* ``@``), lowercased, percent-decoded and
IDNA-encoded. IP literals are recognised in every spelling ``inet_aton`` and browsers accept: dotted,
decimal (``2130706433``), hex (``0x7f000001``), octal (``0177.0.0.1``), short (``127.1``), IPv6 in
brackets with zone ids, and IPv4 embedded in IPv6 (mapped, NAT64, 6to4). Wildcard-DNS names that embed
an address (``127.0.0.1.nip.io``) are read as that address. No DNS lookup is ever made.
"""

from __future__ import annotations

import contextlib
import ipaddress
from urllib.parse import unquote

from .._lazyre import lazy_compile
from ._facts import IPAddress, UrlFact

_SCHEME = lazy_compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
URL_IN_TEXT = lazy_compile(r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s'\"<>`)\]}]+")
_SCP_LIKE = lazy_compile(r"^(?:([^@/:\s]+)@)?([A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:.%\w]+\]):(?!//)(.*)$")
_DASHED_V4 = lazy_compile(r"(\d{1,3})[.\-](\d{1,3})[.\-](\d{1,3})[.\-](\d{1,3})")

_METADATA_HOSTS = frozenset(
    {
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
    }
)
_METADATA_IPS = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "169.254.169.253", "100.100.100.200", "fd00:ec2::254")
)
_WILDCARD_DNS = (".nip.io", ".sslip.io", ".xip.io", ".traefik.me")
_LOOPBACK_NAMES = ("localhost", "localtest.me", "lvh.me", "vcap.me", "localhost.localdomain")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ssh": 22, "ws": 80, "wss": 443, "git": 9418}


def parse_ipv4_loose(text: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in any ``inet_aton`` spelling (``127.1``, ``0x7f.1``, ``017700000001``)."""
    parts = text.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        low = part.lower()
        try:
            if low.startswith("0x"):
                values.append(int(low[2:] or "0", 16))
            elif len(low) > 1 and low.startswith("0"):
                values.append(int(low, 8))
            elif low.isdigit() and low.isascii():
                values.append(int(low))
            else:
                return None
        except ValueError:
            return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    number = last
    for i, v in enumerate(head):
        number += v << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def _effective(ip: IPAddress) -> IPAddress:
    """IPv4 carried inside an IPv6 address (mapped, NAT64, 6to4), else the address itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def parse_host(text: str) -> tuple[str, IPAddress | None]:
    """Canonical host and its address (when it is, or embeds, an IP literal)."""
    host = unquote(text).strip().lower()
    if host.startswith("[") and host.endswith("]"):
        inner = host[1:-1].split("%", 1)[0]
        try:
            ip6: IPAddress = _effective(ipaddress.IPv6Address(inner))
        except ValueError:
            return host, None
        return str(ip6), ip6
    if ":" in host:  # bare IPv6 (ssh, nc)
        try:
            ip6 = _effective(ipaddress.IPv6Address(host.split("%", 1)[0]))
            return str(ip6), ip6
        except ValueError:
            pass
    host = host.rstrip(".") if host not in (".", "") else host
    if host and not host.isascii():
        with contextlib.suppress(Exception):
            host = host.encode("idna").decode("ascii")
    ip4 = parse_ipv4_loose(host)
    if ip4 is not None:
        return str(ip4), ip4
    for suffix in _WILDCARD_DNS:
        if host.endswith(suffix):
            m = _DASHED_V4.search(host[: -len(suffix)])
            if m:
                try:
                    return host, ipaddress.IPv4Address(".".join(m.groups()))
                except ValueError:
                    pass
    return host, None


def host_fact(
    host_text: str,
    *,
    raw: str,
    scheme: str,
    port: int | None = None,
    via: str,
    program: str | None = None,
    had_userinfo: bool = False,
    alt_hosts: tuple[str, ...] = (),
) -> UrlFact:
    """A :class:`UrlFact` for a host named outside a URL (``ssh user@host``, ``nc host 80``)."""
    host, ip = parse_host(host_text)
    loop_name = host in _LOOPBACK_NAMES or host.endswith((".localhost", ".localtest.me", ".lvh.me"))
    loopback = loop_name or (ip is not None and (ip.is_loopback or ip.is_unspecified))
    private = loopback or (
        ip is not None
        and (ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast or not ip.is_global)
    )
    metadata = host in _METADATA_HOSTS or (ip is not None and ip in _METADATA_IPS)
    return UrlFact(
        raw=raw,
        scheme=scheme,
        host=host,
        port=port if port is not None else _DEFAULT_PORTS.get(scheme),
        ip=ip,
        is_loopback=loopback,
        is_private=private or metadata,
        is_metadata=metadata,
        had_userinfo=had_userinfo,
        alt_hosts=tuple(h for h in alt_hosts if h and h != host),
        via=via,
        program=program,
    )


def _split_port(hostport: str) -> tuple[str, int | None]:
    if hostport.startswith("["):
        end = hostport.find("]")
        if end != -1:
            rest = hostport[end + 1 :]
            return hostport[: end + 1], _port(rest[1:]) if rest.startswith(":") else None
    if hostport.count(":") == 1:
        host, _, port = hostport.partition(":")
        return host, _port(port)
    return hostport, None


def _port(text: str) -> int | None:
    return int(text) if text.isdigit() and text.isascii() and int(text) < 65536 else None


def parse_url(
    raw: str, *, via: str = "url", program: str | None = None, default_scheme: str | None = None
) -> UrlFact | None:
    """Parse a URL (``default_scheme`` for clients that accept ``host/path``); ``None`` if no host."""
    text = raw.strip(" \t\r\n\x00\x0b\x0c").replace("\t", "").replace("\n", "").replace("\r", "")
    m = _SCHEME.match(text)
    if m and (text[m.end() : m.end() + 1] in ("/", "\\") or m.group(1).lower() in ("http", "https")):
        scheme = m.group(1).lower()
        rest = text[m.end() :]
    elif text.startswith("//"):
        scheme, rest = (default_scheme or ""), text
    elif default_scheme is not None:
        scheme, rest = default_scheme, "//" + text
    else:
        return None
    rest = rest.lstrip("/\\") if scheme in _DEFAULT_PORTS or scheme == "" else rest.removeprefix("//")
    end = len(rest)
    for sep in "/?#":
        i = rest.find(sep)
        if i != -1:
            end = min(end, i)
    authority = rest[:end]
    alt: list[str] = []
    if "\\" in authority:  # browsers read '\' as '/'; curl keeps it in the authority
        other = authority
        authority = authority.split("\\", 1)[0]
        other_host = _split_port(other.rpartition("@")[2])[0]
        alt.append(parse_host(other_host)[0])
    userinfo, at, hostport = authority.rpartition("@")
    if at and "@" in userinfo:  # a client splitting at the first '@' reads another host
        alt.append(parse_host(_split_port(authority.partition("@")[2])[0])[0])
    host_text, port = _split_port(hostport)
    if not host_text:
        return None
    return host_fact(
        host_text,
        raw=raw,
        scheme=scheme,
        port=port,
        via=via,
        program=program,
        had_userinfo=bool(at),
        alt_hosts=tuple(alt),
    )


def parse_scp_like(arg: str) -> tuple[str | None, str, str] | None:
    """``[user@]host:path`` (scp, rsync, git) → (user, host, path); ``None`` for a local path or URL."""
    if "://" in arg or arg.startswith(("/", ".", "~")):
        return None
    m = _SCP_LIKE.match(arg)
    if m is None:
        return None
    return m.group(1), m.group(2), m.group(3)


def parse_user_host(arg: str) -> tuple[str | None, str]:
    """``user@host`` → (user, host)."""
    user, at, host = arg.rpartition("@")
    return (user if at else None), host


def urls_in_text(text: str, *, via: str, program: str | None = None) -> list[UrlFact]:
    out: list[UrlFact] = []
    for m in URL_IN_TEXT.finditer(text[:100_000]):
        fact = parse_url(m.group(0), via=via, program=program)
        if fact is not None and fact.scheme != "file":
            out.append(fact)
        if len(out) >= 64:
            break
    return out
