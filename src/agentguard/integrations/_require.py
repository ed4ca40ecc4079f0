"""A missing framework names the extra that installs it."""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, *, extra: str) -> ModuleType:
    """Import ``module`` or raise an :class:`ImportError` that says ``pip install 'agentguard[extra]'``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"agentguard.integrations needs {module!r} for this integration: "
            f"pip install 'agentguard[{extra}]'"
        ) from exc
