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
from collections.abc import Callable
from typing import Final, Protocol, cast

from .._version import __version__
from ._common import CommandError

# name -> module; add a line here to add a command.
COMMANDS: Final[dict[str, str]] = {
    "demo": "agentguard.cli._demo",
    "runs": "agentguard.cli._runs",
    "approvals": "agentguard.cli._approvals",
    "scan": "agentguard.cli._scan",
    "check": "agentguard.cli._check",
    "hook": "agentguard.cli._hook",
    "dashboard": "agentguard.cli._dashboard",
    "report": "agentguard.cli._report",
    "monitor": "agentguard.cli._monitor",
    "triage": "agentguard.cli._triage",
    "incident": "agentguard.cli._incident",
}


class Command(Protocol):
    """What a command module provides."""

    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that command's module is imported (the others stay listed).

    A command module that fails to import is listed as unavailable instead of breaking the others.
    """
    parser = argparse.ArgumentParser(
        prog="agentguard", description="Observe and govern AI agents: runs, traces, policies."
    )
    parser.add_argument("--version", action="version", version=f"agentguard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name)
            continue
        try:
            command = cast(Command, importlib.import_module(module))
        except Exception as exc:
            failed = sub.add_parser(name, help=f"(unavailable: {type(exc).__name__}: {exc})")
            failed.set_defaults(_run=_unavailable(name, exc))
            continue
        sub_parser = sub.add_parser(name, help=command.HELP, description=command.HELP)
        command.add_arguments(sub_parser)
        sub_parser.set_defaults(_run=command.run)
    return parser


def _unavailable(name: str, exc: Exception) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        raise CommandError(f"the {name} command failed to load: {type(exc).__name__}: {exc}")

    return run


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(only=argv[0] if argv and argv[0] in COMMANDS else None)
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
