"""The demo's sample repository, as data: a tiny package with one failing test.

:func:`write_sample_repo` lays it out in a directory and makes it a git repository with one commit,
so the scripted agent can run the tests, commit, and try to push.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Final

FILES: Final[dict[str, str]] = {
    "README.md": (
        "# textstats\n\nTiny text utilities: the workspace of agentguard's demo agent.\n\n"
        "    python -m pytest -q    # 1 failed: the bug the agent fixes\n"
    ),
    "conftest.py": (
        'import sys\nfrom pathlib import Path\n\nsys.path.insert(0, str(Path(__file__).parent / "src"))\n'
    ),
    "src/textstats/__init__.py": (
        '"""textstats: tiny text utilities (the demo agent\'s workspace)."""\n\n'
        'from .parse import parse_pairs\n\n__all__ = ["parse_pairs"]\n'
    ),
    "src/textstats/parse.py": (
        '"""Parsing ``key=value`` lists."""\n\n\n'
        "def parse_pairs(text: str) -> dict[str, int]:\n"
        '    """Parse ``"a=1, b=2"`` into ``{"a": 1, "b": 2}``."""\n'
        "    out: dict[str, int] = {}\n"
        '    for part in text.split(","):\n'
        '        key, value = part.split("=")\n'
        "        out[key] = int(value)\n"
        "    return out\n"
    ),
    "tests/test_parse.py": (
        "from textstats import parse_pairs\n\n\n"
        "def test_single_pair():\n"
        '    assert parse_pairs("a=1") == {"a": 1}\n\n\n'
        "def test_spaces_after_commas():\n"
        '    assert parse_pairs("a=1, b=2") == {"a": 1, "b": 2}\n'
    ),
    "agentguard_policy.py": "# the policy this repository's agents run under (protected from the agent)\n",
}

_GIT_ID = ["-c", "user.name=demo", "-c", "user.email=demo@example.invalid", "-c", "init.defaultBranch=main"]


def write_sample_repo(root: Path) -> Path:
    """Write the sample repository into ``root`` (created) and commit it; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in FILES.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "textstats: parse key=value lists"]):
        subprocess.run(["git", *_GIT_ID, *argv], cwd=root, check=True, capture_output=True)
    return root
