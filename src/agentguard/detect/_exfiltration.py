"""``exfiltration``: secrets or source leaving the machine.

- ``exfiltration.secret_read`` (info): a secret file read (``.env``, keys, cloud credentials; the
  policy's ``secrets()`` list) or the environment dumped. Not a fault on its own; it is what
  :func:`agentguard.rules.no_egress_after_secret_read` reads;
- ``exfiltration.secret_then_egress`` (high): network egress after a secret read in the same run;
- ``exfiltration.secret_in_args`` (critical): secret-shaped content (what redaction removes) in the
  arguments of an outbound action;
- ``exfiltration.upload`` (high): files, archives or source sent to a host outside the allow-list
  (``agentguard.scope.hosts``): ``curl -F/-T/--data @file``, ``scp``/``rsync`` to a remote, an
  archive piped into ``nc``/``curl``/``ssh``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from .._lazyre import lazy_compile
from ..telemetry import REDACTED, to_text
from ._engine import Detector, Session, contains_any, signal
from ._events import ToolCall
from ._signal import Signal

if TYPE_CHECKING:
    from ..action import Action
    from ..normalise import Facts
    from ..policy._rules._secrets import Secrets

_SECRET_HINT = lazy_compile(
    r"\.env\b|id_(?:rsa|dsa|ecdsa|ed25519)|\.pem\b|\.key\b|\.p12\b|\.pfx\b|credentials|\.netrc|\.npmrc"
    r"|\.pypirc|\.ssh\b"
    r"|\.aws\b|\.kube|secrets?\.|environ|printenv|(?:^|[;&|]\s*)(?:env|set|export\s+-p)\s*(?:$|[;&|])"
    r"|tfstate|tfvars"
    r"|\.git-credentials|\.vault-token|\.pgpass|\.gnupg|gcloud|kubeconfig|\.docker/config",
    re.M,
)
_SECRET_LITERALS: Final = (
    ".env",
    "id_",
    ".pem",
    ".key",
    ".p12",
    ".pfx",
    "credential",
    "netrc",
    "npmrc",
    "pypirc",
    ".ssh",
    ".aws",
    ".kube",
    "secret",
    "environ",
    "printenv",
    "env",
    "set",
    "export",
    "tfstate",
    "tfvars",
    "vault",
    "pgpass",
    "gnupg",
    "gcloud",
    "kubeconfig",
    ".docker",
)
_EGRESS_HINT = lazy_compile(
    r"://|\b(?:curl|wget|nc|ncat|netcat|socat|scp|sftp|rsync|ssh|ftp|telnet|http|https|aws|gsutil|rclone|gh"
    r"|nslookup|dig|ping|Invoke-WebRequest|iwr)\b|@[\w.-]+:"
)
# Every match of _EGRESS_HINT contains one of these ("nc" is in ncat and rsync, "ftp" in sftp).
_EGRESS_LITERALS: Final = ("://", "@", "curl", "wget", "nc", "netcat", "socat", "scp", "ftp", "ssh", "telnet",
                           "http", "aws", "gsutil", "rclone", "gh", "nslookup", "dig", "ping",
                           "Invoke-WebRequest", "iwr")  # fmt: skip
_UPLOAD = lazy_compile(
    r"\s(?:-F|--form|-T|--upload-file)\s|--data(?:-binary|-raw|-urlencode)?[=\s]+['\"]?@|\s-d\s*['\"]?@"
    r"|\b(?:scp|rsync|sftp)\b[^|;&]*\s[\w.@-]+:|\b(?:tar|zip|7z|git\s+(?:archive|bundle)"
    r"|base64)\b[^;&]*\|\s*(?:nc|ncat|netcat|curl|ssh|socat)\b"
    r"|\b(?:nc|ncat|netcat|socat)\b[^|;&]*<",
)
_REGISTRIES: Final = frozenset(
    {"pypi.org", "files.pythonhosted.org", "registry.npmjs.org", "registry.yarnpkg.com", "crates.io",
     "static.crates.io", "index.crates.io", "proxy.golang.org", "sum.golang.org", "rubygems.org"}
)  # fmt: skip


@lru_cache(maxsize=1)
def _secrets() -> Secrets:
    from ..policy._rules._secrets import Secrets

    return Secrets()


def egress_hosts(facts: Facts) -> list[str]:
    """The public hosts ``facts`` reach, package registries left out, in order of appearance."""
    hosts = []
    for u in facts.urls:
        if u.is_loopback or u.is_private:
            continue
        for h in u.hosts:
            if h and h not in _REGISTRIES and h not in hosts:
                hosts.append(h)
    return hosts


def _allowed(host: str, allow: tuple[str, ...]) -> bool:
    return any(host == p or fnmatchcase(host, p) for p in allow)


class Exfiltration(Detector):
    category = "exfiltration"
    call_kinds = frozenset({"shell", "file_read", "network", "other"})

    def __init__(self) -> None:
        self.secret_span: str | None = None
        self.secret_what = ""
        self.reported: set[str] = set()

    def on_call(self, ev: ToolCall, s: Session) -> Iterable[Signal] | None:
        a = ev.action
        out: list[Signal] = []
        read = self._secret_read(a, s)
        if read is not None:
            first = self.secret_span is None
            self.secret_span = self.secret_span or ev.span_id
            self.secret_what = self.secret_what or read
            if first:
                out.append(
                    signal(
                        "exfiltration.secret_read",
                        "info",
                        f"read a secret ({read})",
                        span_ids=[ev.span_id],
                        confidence=0.9,
                        text=a.command or a.path,
                    )
                )
        hosts = self._egress(a, s)
        if not hosts:
            return out
        text = a.command or a.url or ""
        if self.secret_span is not None and "egress" not in self.reported:
            self.reported.add("egress")
            out.append(
                signal(
                    "exfiltration.secret_then_egress",
                    "high",
                    f"network egress to {', '.join(hosts[:3])} after reading a secret ({self.secret_what})",
                    span_ids=[ev.span_id, self.secret_span],
                    confidence=0.75,
                    text=text,
                )
            )
        args_text = to_text(dict(a.arguments))
        if REDACTED in args_text:
            out.append(
                signal(
                    "exfiltration.secret_in_args",
                    "critical",
                    f"secret-shaped content in an outbound call to {', '.join(hosts[:3])}",
                    span_ids=[ev.span_id],
                    confidence=0.8,
                    text=args_text,
                )
            )
        outside = [h for h in hosts if not _allowed(h, s.scope_hosts)]
        if outside and a.kind == "shell" and _UPLOAD.search(" " + (a.command or "")):
            out.append(
                signal(
                    "exfiltration.upload",
                    "high",
                    f"files sent to {', '.join(outside[:3])}, outside the allow-list",
                    span_ids=[ev.span_id],
                    confidence=0.8,
                    text=text,
                )
            )
        return out

    def _secret_read(self, a: Action, s: Session) -> str | None:
        rule = _secrets()
        if a.kind == "file_read":
            path = a.path
            if not path:
                return None
            full = path if os.path.isabs(path) else os.path.join(s.root or a.cwd or "", path)
            return path if rule.is_secret(os.path.normpath(full)) else None
        command = a.command
        if not command or not contains_any(command, _SECRET_LITERALS) or not _SECRET_HINT.search(command):
            return None
        facts = s.facts(a)
        if facts.shell is not None and facts.shell.env_dump:
            return "the environment"
        for p in facts.paths:
            if p.access in ("read", "exec") and rule.is_secret(p.resolved):
                return p.raw
        return None

    def _egress(self, a: Action, s: Session) -> list[str]:
        if a.kind == "network" or (a.kind == "other" and a.url):
            if not a.url:
                return ["(unknown host)"] if a.kind == "network" else []
            return egress_hosts(s.facts(a))
        command = a.command
        if not command or not contains_any(command, _EGRESS_LITERALS) or not _EGRESS_HINT.search(command):
            return []
        return egress_hosts(s.facts(a))
