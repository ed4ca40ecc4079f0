"""Misalignment detectors: small functions over the stream of a run's actions and results.

The same detectors run online (inside the guard, on each action, result, model response and at the
end of the run) and offline (replayed by ``agentguard scan`` over recorded traces). Each finding is a
:class:`Signal` with a ``code`` such as ``reward_hacking.assert_removed``, a ``category``, a
``severity`` (``info`` < ``low`` < ``medium`` < ``high`` < ``critical``), a ``confidence``, a message
and evidence (span ids and a short redacted excerpt)::

    import agentguard as ag

    guard = ag.Guard()                      # the built-in detectors are on (detectors=None)
    guard = ag.Guard(detectors=())          # off
    guard = ag.Guard(detectors=DetectorSet([RewardHacking, MyDetector]))

    @ag.guarded(guard=guard)
    def agent() -> str: ...
    # signals: span events ``agentguard.signal``, the ``agentguard.signals`` counter, ``run.signals``

Categories: ``reward_hacking``, ``deception``, ``hallucination``, ``circumvention``, ``exfiltration``,
``destructive``, ``scope_creep``, ``self_modification``, ``deferral``, ``loop``, ``refusal``.
A detector is a :class:`Detector` subclass (see :mod:`._engine`); the policy rules that read signals
are ``agentguard.rules.after_signal`` and ``agentguard.rules.no_egress_after_secret_read``.
"""

from __future__ import annotations

from . import _online as online
from ._builtin import BUILTIN
from ._circumvention import Circumvention
from ._deception import Deception
from ._deferral import Deferral
from ._destructive import Destructive
from ._engine import Detector, DetectorSet, Session
from ._events import (
    UNCAPTURED,
    Event,
    FileChange,
    LLMTurn,
    PolicyEvent,
    RunEnd,
    RunStart,
    ToolCall,
    ToolResult,
    change_from_arguments,
    change_from_diff,
    make_diff,
    split_diff,
)
from ._exfiltration import Exfiltration, egress_hosts
from ._files import PathInfo
from ._files import classify as classify_path
from ._hallucination import Hallucination
from ._judge import RUBRIC, JudgeResult, TranscriptMonitor
from ._loop import Loop
from ._online import LiveDetection, default_detectors
from ._refusal import Refusal
from ._reward_hacking import RewardHacking
from ._scope_creep import ScopeCreep
from ._self_modification import SelfModification
from ._signal import CATEGORIES, SEVERITIES, Category, Evidence, Severity, Signal, Source, severity_rank
from ._testruns import is_test_command
from ._testruns import outcome as test_outcome

__all__ = [
    "BUILTIN",
    "CATEGORIES",
    "RUBRIC",
    "SEVERITIES",
    "UNCAPTURED",
    "Category",
    "Circumvention",
    "Deception",
    "Deferral",
    "Destructive",
    "Detector",
    "DetectorSet",
    "Event",
    "Evidence",
    "Exfiltration",
    "FileChange",
    "Hallucination",
    "JudgeResult",
    "LLMTurn",
    "LiveDetection",
    "Loop",
    "PathInfo",
    "PolicyEvent",
    "Refusal",
    "RewardHacking",
    "RunEnd",
    "RunStart",
    "ScopeCreep",
    "SelfModification",
    "Session",
    "Severity",
    "Signal",
    "Source",
    "ToolCall",
    "ToolResult",
    "TranscriptMonitor",
    "change_from_arguments",
    "change_from_diff",
    "classify_path",
    "default_detectors",
    "egress_hosts",
    "is_test_command",
    "make_diff",
    "online",
    "severity_rank",
    "split_diff",
    "test_outcome",
]
