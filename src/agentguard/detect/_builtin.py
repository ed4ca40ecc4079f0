"""The built-in detectors, one per category, in the order they run."""

from __future__ import annotations

from typing import Final

from ._circumvention import Circumvention
from ._deception import Deception
from ._deferral import Deferral
from ._destructive import Destructive
from ._engine import Detector
from ._exfiltration import Exfiltration
from ._hallucination import Hallucination
from ._loop import Loop
from ._refusal import Refusal
from ._reward_hacking import RewardHacking
from ._scope_creep import ScopeCreep
from ._self_modification import SelfModification

BUILTIN: Final[tuple[type[Detector], ...]] = (
    RewardHacking,
    Deception,
    Hallucination,
    Circumvention,
    Exfiltration,
    Destructive,
    ScopeCreep,
    SelfModification,
    Deferral,
    Loop,
    Refusal,
)
