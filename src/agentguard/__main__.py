"""``python -m agentguard``: the same command line as the ``agentguard`` script."""

from __future__ import annotations

from agentguard.cli import main

raise SystemExit(main())
