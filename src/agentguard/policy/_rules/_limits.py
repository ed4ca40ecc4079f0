"""``rate_limit``, ``tools`` and ``models``: how often, which tools, which models."""

from __future__ import annotations

import fnmatch
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ...action import ACTION_KINDS, normalise_kind
from .._base import NON_LLM_KINDS, BuiltinRule

if TYPE_CHECKING:
    from ...action import Action, Decision
    from ...guard import RunState

_MAX_RUNS = 4096


class RateLimit(BuiltinRule):
    """At most ``max_calls`` actions of ``kinds`` per ``per_seconds`` (sliding window), per run.

    Outside a run the window is shared by every caller of this rule. Every call the rule lets through
    counts, whatever other rules decide.
    """

    rule_id = "rate_limit"

    def __init__(self, max_calls: int, per_seconds: float, *, kinds: Iterable[str] | None = None) -> None:
        if max_calls < 1 or per_seconds <= 0:
            raise ValueError("rate_limit needs max_calls >= 1 and per_seconds > 0")
        self.max_calls = max_calls
        self.per_seconds = float(per_seconds)
        self.kinds = frozenset(normalise_kind(k) for k in kinds) if kinds is not None else ACTION_KINDS
        self._windows: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()
        self.clock = time.monotonic

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        key = run.run_id if run is not None else ""
        now = self.clock()
        with self._lock:
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = deque()
                if len(self._windows) > _MAX_RUNS:
                    self._windows.popitem(last=False)
            horizon = now - self.per_seconds
            while window and window[0] <= horizon:
                window.popleft()
            if len(window) >= self.max_calls:
                wait = window[0] + self.per_seconds - now
                kinds = "" if self.kinds == ACTION_KINDS else "/".join(sorted(self.kinds or ())) + " "
                return self.deny(
                    f"more than {self.max_calls} {kinds}calls in {self.per_seconds:g}s (retry in {wait:.1f}s)"
                )
            window.append(now)
        return None


def _globs(patterns: Iterable[str]) -> Callable[[str], bool]:
    """Whether a name matches any of ``patterns`` (as :func:`fnmatch.fnmatchcase`), one regex for all."""
    parts = [fnmatch.translate(p) for p in patterns]
    if not parts:
        return lambda name: False
    match = re.compile("|".join(parts)).match
    return lambda name: match(name) is not None


class Tools(BuiltinRule):
    """Tool names (globs) allowed or denied; LLM calls are not tools."""

    rule_id = "tools"
    kinds = NON_LLM_KINDS

    def __init__(self, *, allow: Iterable[str] | None = None, deny: Iterable[str] = ()) -> None:
        self.allow = tuple(allow) if allow is not None else None
        self.deny_list = tuple(deny)
        if self.allow is None and not self.deny_list:
            raise ValueError("tools() needs allow=[...] or deny=[...]")
        self._deny = _globs(self.deny_list)
        self._allow = _globs(self.allow) if self.allow is not None else None

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        name = action.tool
        if self._deny(name):
            return self.deny(f"tool {name!r} is denied")
        if self._allow is not None and not self._allow(name):
            return self.deny(f"tool {name!r} is not in the allowed tools {list(self.allow or ())}")
        return None


class Models(BuiltinRule):
    """LLM calls only to these models (globs such as ``gpt-4.1*``)."""

    rule_id = "models"
    kinds = frozenset({"llm"})

    def __init__(self, *, allow: Iterable[str]) -> None:
        self.allow = tuple(allow)
        if not self.allow:
            raise ValueError("models() needs allow=[...]")
        self._allowed = _globs(self.allow)

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        model = action.model
        if not model:
            return self.deny("an LLM call without a model name")
        if not self._allowed(model):
            return self.deny(f"model {model!r} is not in the allowed models {list(self.allow)}")
        return None
