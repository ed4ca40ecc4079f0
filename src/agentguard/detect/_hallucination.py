"""``hallucination``: authority the agent made up.

- ``hallucination.package_missing`` (high): an install the registry answered with "no such package"
  (pip's "No matching distribution", npm's ``E404``, cargo, go, uv) — the name was invented, and a
  squatter may register it;
- ``hallucination.unlisted_import`` (medium): Python code imports a third-party module that no
  lockfile or requirements file the agent saw names (checked only once it saw one);
- ``hallucination.unseen_reference`` (medium): the final message cites a file or URL that no action
  touched and no tool output or task text ever showed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import Final

from .._lazyre import lazy_compile
from . import _pyast
from ._engine import Detector, Session, signal
from ._events import RunEnd, RunStart, ToolCall, ToolResult
from ._files import basename, classify, is_lockfile
from ._signal import Signal

_MISSING = lazy_compile(
    r"No matching distribution found for ([\w.\-\[\]]+)"
    r"|Could not find a version that satisfies the requirement ([\w.\-\[\]]+)"
    r"|npm (?:ERR!|error) 404\s+'?([@\w./-]+?)(?:@[\w.^~-]+)?'? is not in (?:this|the npm) registry"
    r"|404 Not Found - GET https?://registry\.npmjs\.org/([@\w./%-]+)"
    r"|no matching package named `([\w-]+)` found"
    r"|Because ([\w.-]+) was not found in the package registry|module ([\w./-]+): .*?\bnot found\b"
    r"|E404[^\n]*?'([@\w./-]+?)@",
    re.I,
)
_MISSING_HINTS: Final = ("istribution", "satisfies the requirement", "404", "o matching package", "not found")
_INSTALL = lazy_compile(r"\b(?:pip3?|uv\s+pip|uv|poetry|pipenv|pdm)\s+(?:install|add)\s+([^;&|\n]+)")
_PATH_TOKEN = lazy_compile(
    r"(?<![\w/.@-])((?:[\w.-]+/)*[\w-]+\.(?:py|js|ts|tsx|jsx|go|rs|rb|java|md|json|toml|ya?ml|txt|cfg|ini|sh"
    r"|c|h|cpp|lock))\b"
)
_NAME_TOKEN = lazy_compile(
    r"[\w-]+\.(?:py|js|ts|tsx|jsx|go|rs|rb|java|md|json|toml|ya?ml|txt|cfg|ini|sh|c|h|cpp|lock)\b"
)
_URL = lazy_compile(r"https?://[^\s)>\]'\"`]+")
_WORD = lazy_compile(r"[A-Za-z_][\w.-]*")
_ALIASES: Final = {
    "yaml": "pyyaml", "sklearn": "scikit-learn", "cv2": "opencv-python", "pil": "pillow",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil", "dotenv": "python-dotenv", "jwt": "pyjwt", "crypto": "pycryptodome",
    "attr": "attrs", "google": "protobuf", "magic": "python-magic", "serial": "pyserial", "usb": "pyusb",
    "git": "gitpython", "docx": "python-docx", "jose": "python-jose", "multipart": "python-multipart",
}  # fmt: skip
_STDLIB: Final = frozenset(sys.stdlib_module_names) | {"__future__"}
_MAX_SEEN = 4096


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip().lower())


def _url(u: str) -> str:
    return u.rstrip(".,;:!?/")


class Hallucination(Detector):
    category = "hallucination"
    gated = True
    call_kinds = frozenset({"shell", "file_read", "file_write", "network", "other"})

    def __init__(self) -> None:
        self.paths: set[str] = set()
        self.names: set[str] = set()
        """Basenames of every path touched or shown."""
        self.stems: set[str] = set()
        """Path components and file stems (possible local module names)."""
        self.urls: set[str] = set()
        self.packages: set[str] = set()
        self.lockfile_seen = False

    def _see_path(self, path: str) -> None:
        if path in self.paths or len(self.names) >= _MAX_SEEN:
            return
        self.paths.add(path)
        p = path.replace("\\", "/")
        self.names.add(basename(p))
        for part in p.split("/"):
            if part and len(self.stems) < _MAX_SEEN:
                self.stems.add(part.rsplit(".", 1)[0].lower())

    def _see_text(self, text: str | None) -> None:
        if not text:
            return
        if len(self.names) < _MAX_SEEN and "." in text:  # every name token has a dot
            self.names.update(_NAME_TOKEN.findall(text))
        if "://" in text:
            for m in _URL.finditer(text):
                if len(self.urls) < _MAX_SEEN:
                    self.urls.add(_url(m.group(0)))

    def on_start(self, ev: RunStart, s: Session) -> Iterable[Signal] | None:
        self._see_text(ev.task)
        return None

    def on_call(self, ev: ToolCall, s: Session) -> Iterable[Signal] | None:
        a = ev.action
        if a.path:
            self._see_path(a.path)
        if a.url:
            self.urls.add(_url(a.url))
        if a.command:
            self._see_text(a.command)
        return None

    def on_result(self, ev: ToolResult, s: Session) -> Iterable[Signal] | None:
        a = ev.action
        if a.kind == "file_write":
            if ev.error is None and ev.change is not None:
                return self._written(ev, s)
            return None
        out_text = ev.output
        if a.kind == "file_read" and a.path and is_lockfile(a.path):
            self._lockfile(out_text)
        self._see_text(out_text)
        if a.kind == "shell" and a.command and (ev.error is not None or out_text):
            return self._install(ev, a.command, out_text, ev.error or "")
        return None

    def _lockfile(self, text: str | None) -> None:
        self.lockfile_seen = True
        for w in _WORD.findall(text or ""):
            if len(self.packages) < _MAX_SEEN * 4:
                self.packages.add(_norm(w))

    def _install(self, ev: ToolResult, command: str, output: str, error: str) -> list[Signal] | None:
        m = None
        for h in _MISSING_HINTS:  # no hint has a newline: one in the joined text is in one part
            if h in output or h in error:
                m = _MISSING.search(output + "\n" + error)
                break
        if m is None:
            if "install" not in command and "add" not in command:  # what _INSTALL looks for
                return None
            for inst in _INSTALL.finditer(command):
                for w in inst.group(1).split():
                    if not w.startswith("-"):
                        self.packages.add(_norm(re.split(r"[=<>~!\[]", w, maxsplit=1)[0]))
            return None
        name = next(g for g in m.groups() if g)
        return [
            signal(
                "hallucination.package_missing",
                "high",
                f"installed a package the registry does not know: {name}",
                span_ids=[ev.span_id],
                confidence=0.9,
                text=m.group(0),
            )
        ]

    def _written(self, ev: ToolResult, s: Session) -> list[Signal] | None:
        change = ev.change
        assert change is not None
        path = change.path or ev.action.path or ""
        info = classify(path)
        if info.lockfile:
            self._lockfile(change.new)
            return None
        if not self.lockfile_seen or not info.python or info.test:
            return None
        new_tree = _pyast.parse(change.new)
        if new_tree is None:
            return None
        old_tree = _pyast.parse(change.old)
        before = _pyast.imports(old_tree) if old_tree is not None else set()
        unknown = []
        for mod in sorted(_pyast.imports(new_tree) - before):
            if mod in _STDLIB or mod.lower() in self.stems:
                continue
            if _norm(mod) in self.packages or _norm(_ALIASES.get(mod.lower(), mod)) in self.packages:
                continue
            unknown.append(mod)
        if not unknown:
            return None
        return [
            signal(
                "hallucination.unlisted_import",
                "medium",
                f"{path} imports {', '.join(unknown)}, which no lockfile or requirements file names",
                span_ids=[ev.span_id],
                confidence=0.55,
                text="\n".join(
                    ln
                    for ln in (change.new or "").splitlines()
                    if "import" in ln and any(u in ln for u in unknown)
                ),
            )
        ]

    def on_end(self, ev: RunEnd, s: Session) -> Iterable[Signal] | None:
        text = ev.final if ev.final is not None else s.last_text
        if not text:
            return None
        for path in s.paths:
            self._see_path(path)
        missing: list[str] = []
        for m in _PATH_TOKEN.finditer(text):
            token = m.group(1)
            if basename(token) not in self.names and token not in missing:
                missing.append(token)
        for m in _URL.finditer(text):
            u = _url(m.group(0))
            if u not in self.urls and not any(
                seen.startswith(u) or u.startswith(seen + "/") for seen in self.urls
            ):
                missing.append(u)
        if not missing:
            return None
        return [
            signal(
                "hallucination.unseen_reference",
                "medium",
                f"the final message cites {', '.join(missing[:5])}, never seen in the run",
                span_ids=[ev.span_id],
                confidence=0.5,
                text=text,
            )
        ]
