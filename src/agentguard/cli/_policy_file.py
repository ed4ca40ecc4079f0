"""Reading what the CLI decides on: a policy file, and JSON from the command line or a hook.

Kept free of ``argparse`` so that the hooks' cold start does not import it.
"""

from __future__ import annotations

import json
import runpy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._common import CommandError

if TYPE_CHECKING:
    from ..guard import PolicyLike


def load_policy(path: str) -> PolicyLike:
    """Run a policy file and return its ``policy``; :class:`CommandError` says what is wrong."""
    try:
        namespace = runpy.run_path(path, run_name="agentguard_policy")
    except FileNotFoundError:
        raise CommandError(f"policy file not found: {path}") from None
    except (Exception, SystemExit) as exc:
        raise CommandError(f"policy file {path} failed: {type(exc).__name__}: {exc}") from None
    policy = namespace.get("policy")
    if policy is None:
        raise CommandError(f"policy file {path} does not define `policy`")
    if not callable(getattr(policy, "check", None)):
        raise CommandError(f"`policy` in {path} has no check(action) method ({type(policy).__name__})")
    return policy  # type: ignore[no-any-return]


def parse_json(text: str, what: str = "action") -> Mapping[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise CommandError(f"{what} is nested too deeply to read") from None
    if not isinstance(data, dict):
        raise CommandError(f"{what} must be a JSON object, not {type(data).__name__}")
    return data


__all__ = ["load_policy", "parse_json"]
