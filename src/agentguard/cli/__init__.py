"""The ``agentguard`` command line (also ``python -m agentguard``).

Every command is one module of this package, listed in :data:`COMMANDS`, that defines ``HELP`` (one
line), ``add_arguments(parser)`` and ``run(args) -> int``. Commands keep their heavy imports inside
``run`` so that ``agentguard --help`` stays fast, and report expected failures by raising
:class:`~agentguard.cli._common.CommandError` (one line on stderr, exit status 1, no traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Final, Protocol, cast

from .._version import __version__
from ._common import CommandError

# name -> module; add a line here to add a command.
COMMANDS: Final[dict[str, str]] = {
    "runs": "agentguard.cli._runs",
    "approvals": "agentguard.cli._approvals",
    "check": "agentguard.cli._check",
    "hook": "agentguard.cli._hook",
}


class Command(Protocol):
    """What a command module provides."""

    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentguard", description="Observe and govern AI agents: runs, traces, policies."
    )
    parser.add_argument("--version", action="version", version=f"agentguard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        command = cast(Command, importlib.import_module(module))
        sub_parser = sub.add_parser(name, help=command.HELP, description=command.HELP)
        command.add_arguments(sub_parser)
        sub_parser.set_defaults(_run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors
        return exit_.code if isinstance(exit_.code, int) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args))
    except CommandError as err:
        print(f"agentguard {args.command}: {err}", file=sys.stderr)
        return err.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `agentguard runs | head`
        return 0


__all__ = ["COMMANDS", "Command", "CommandError", "build_parser", "main"]
