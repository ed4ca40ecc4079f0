"""The page: one HTML template, served with external assets or inlined into a self-contained report.

The live dashboard links ``static/dashboard.css`` and ``static/dashboard.js`` and is served with a
strict Content-Security-Policy (no inline script, nothing from another origin). The report inlines both
files and embeds the data as a ``<script type="application/json">`` block; its CSP admits exactly the
inlined script and style by hash, so the file runs offline and nothing in the data can execute.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import cache
from importlib import resources
from typing import Any, Final

from .._lazyre import lazy_compile

SERVER_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_SLOT: Final = lazy_compile(r"\{\{([A-Z]+)\}\}")
STATIC_FILES: Final = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}


@cache
def asset(name: str) -> str:
    """A file shipped under ``agentguard/dashboard/static/``."""
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def _fill(template: str, **parts: str) -> str:
    # One pass over the template only: text inside a part (agent data) is never substituted again.
    return _SLOT.sub(lambda m: parts[m.group(1)], template)


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def embed_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` are escaped as ``\\u003c`` etc."""
    text = json.dumps(data, separators=(",", ":"), default=str, allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def server_page(*, token: str | None = None) -> str:
    """The live dashboard's HTML; ``token`` (the per-install token) goes into a ``<meta>`` element
    for the page's state changes (only a page of this origin can read it)."""
    meta = ""
    if token:
        meta = f'<meta name="agentguard-token" content="{html.escape(token, quote=True)}">'
    return _fill(
        asset("index.html"),
        CSP="",
        TOKEN=meta,
        STYLE='<link rel="stylesheet" href="static/dashboard.css">',
        DATA="",
        SCRIPT='<script src="static/dashboard.js" defer></script>',
    )


def report_page(data: dict[str, Any]) -> str:
    """A self-contained HTML report of ``data`` (a :meth:`DashboardApi.snapshot`)."""
    css, js = asset("dashboard.css"), asset("dashboard.js")
    csp = (
        f"default-src 'none'; script-src '{_sha256(js)}'; style-src '{_sha256(css)}'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    return _fill(
        asset("index.html"),
        CSP=f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        TOKEN="",
        STYLE=f"<style>{css}</style>",
        DATA=f'<script type="application/json" id="agentguard-data">{embed_json(data)}</script>',
        SCRIPT=f"<script>{js}</script>",
    )
