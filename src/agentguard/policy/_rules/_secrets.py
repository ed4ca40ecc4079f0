"""``secrets()``: no reading of secret files through any tool, and no dumping of the environment.

A secret file is matched on its resolved real path, so ``cat src/../.env``, a symlink to ``~/.ssh``,
``grep KEY .env``, ``source .env``, ``{ cat .env; }``, ``cat <(cat .env)`` and a ``Read`` tool call
are the same read. A glob (``cat .e*``) is expanded against the file system and denied when it
reaches a secret. Environment dumps (``env``, ``printenv``, ``set``, ``export -p``,
``/proc/self/environ``) are denied. A command the normaliser cannot see through that names a secret
file or the environment in its text is denied too (an opaque command asks anyway).
"""

from __future__ import annotations

import glob as _glob
import itertools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .._base import NON_LLM_KINDS, BuiltinRule, facts_of
from .._globs import GlobSet

if TYPE_CHECKING:
    from ...action import Action
    from ...decision import Decision
    from ...normalise import PathFact
    from ...run import RunState

SECRET_FILES: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "**/.ssh/**",
    "**/.gnupg/**",
    "**/.aws/credentials",
    "**/.aws/config",
    "**/.azure/**",
    "**/.config/gcloud/**",
    "**/.config/gh/hosts.yml",
    "**/.docker/config.json",
    "**/.kube/config",
    "kubeconfig",
    "*.kubeconfig",
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".pgpass",
    ".my.cnf",
    ".vault-token",
    ".htpasswd",
    "secrets.*",
    "credentials.json",
    "service-account*.json",
    "terraform.tfstate*",
    "*.tfvars",
    "/proc/*/environ",
)
"""Globs (any depth unless they contain a ``/``) naming files that hold credentials."""

NOT_SECRET: tuple[str, ...] = (
    "*.pub",
    "known_hosts*",
    ".env.example",
    ".env.sample",
    ".env.template",
    ".env.dist",
    "*.env.example",
)
"""Look-alikes that hold no secret (public keys, templates)."""

_TEXT_HINTS = re.compile(
    r"(?<![\w-])\.env(?![\w-]|\.(?:example|sample|template|dist))|id_(?:rsa|dsa|ecdsa|ed25519)(?!\.pub)"
    r"|\.aws/credentials|\.netrc|\.npmrc|\.pypirc|\.git-credentials|\.kube/config|\.ssh/|/environ\b"
    r"|\.pem\b|os\.environ|process\.env|\bENV\[|getenv|printenv|secrets\.(?:ya?ml|json|toml|env)"
)
_GLOB_LIMIT = 1000


class Secrets(BuiltinRule):
    rule_id = "secrets"
    kinds = NON_LLM_KINDS

    def __init__(
        self, *, extra: Iterable[str] = (), allow: Iterable[str] = (), env_dumps: bool = True
    ) -> None:
        self.patterns = (*SECRET_FILES, *extra)
        self.secret = GlobSet(self.patterns)
        self.exempt = GlobSet((*NOT_SECRET, *allow))
        self.env_dumps = env_dumps

    def is_secret(self, resolved: str) -> bool:
        rel = resolved.lstrip("/")
        return self.secret.match(rel, resolved) and not self.exempt.match(rel, resolved)

    def _hits(self, p: PathFact) -> str | None:
        if self.is_secret(p.resolved):
            return p.resolved
        if p.glob and not p.dynamic:
            try:
                for found in itertools.islice(_glob.iglob(p.resolved), _GLOB_LIMIT):
                    if self.is_secret(found):
                        return found
            except Exception:
                return None
        return None

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        facts = facts_of(action)
        for p in facts.paths:
            if p.access == "write":
                continue
            hit = self._hits(p)
            if hit is not None:
                verb = {"read": "reads", "exec": "runs", "delete": "moves or deletes"}.get(
                    p.access, "touches"
                )
                return self.deny(f"{verb} {p.raw!r}, a secret file ({hit})")
        shell = facts.shell
        if shell is not None:
            if self.env_dumps and shell.env_dump:
                return self.deny("dumps the environment, which holds secrets")
            if shell.opaque and _TEXT_HINTS.search(shell.command):
                return self.deny("an opaque command that names a secret file or the environment")
        return None
