"""The ``agentguard`` command line (also ``python -m agentguard``).

Every command is one module of this package, listed in :data:`COMMANDS`, that defines ``HELP`` (one
line), ``add_arguments(parser)`` and ``run(args) -> int``. Commands keep their heavy imports inside
``run`` so that ``agentguard --help`` stays fast, and report expected failures by raising
:class:`~agentguard.cli._common.CommandError` (one line on stderr, exit status 1, no traceback).

Every command takes ``--no-color`` (``NO_COLOR`` in the environment does the same) and, where it
prints results, ``--json``. Exit codes (:mod:`agentguard.cli._common`): 0 success, 1 a failure or a
``--fail-on`` finding, 64 a usage error (unknown flag, bad value), 130 interrupted; ``check`` and
``hook`` also answer 2 (deny) and 3 (ask).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Protocol, cast

from .._version import __version__
from ._common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    OUTCOME_SGR,
    SEVERITY_SGR,
    CommandError,
    format_usd,
    paint,
    plural,
    use_color,
)

if TYPE_CHECKING:
    import argparse

# name -> module; add a line here to add a command.
COMMANDS: Final[dict[str, str]] = {
    "demo": "agentguard.cli._demo",
    "runs": "agentguard.cli._runs",
    "approvals": "agentguard.cli._approvals",
    "scan": "agentguard.cli._scan",
    "check": "agentguard.cli._check",
    "hook": "agentguard.cli._hook",
    "serve": "agentguard.cli._serve",
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
    import argparse

    parser = argparse.ArgumentParser(
        prog="agentguard",
        description="Observe and govern AI agents: runs, traces, policies.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"agentguard {__version__}")
    _add_no_color(parser)
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
        if not any("--no-color" in a.option_strings for a in sub_parser._actions):
            _add_no_color(sub_parser, default=argparse.SUPPRESS)
        sub_parser.set_defaults(_run=command.run)
    return parser


_EPILOG = """\
exit status: 0 success, 1 failure (or a --fail-on finding), 64 usage error, 130 interrupted;
check and hook also answer 2 (deny) and 3 (ask). NO_COLOR=1 or --no-color: plain output.
"""


def _add_no_color(parser: argparse.ArgumentParser, default: object = False) -> None:
    # The sub-command's copy does not overwrite the top-level value (`agentguard --no-color runs`).
    parser.add_argument(
        "--no-color", action="store_true", default=default, help="no colour (also: NO_COLOR=1)"
    )


def _unavailable(name: str, exc: Exception) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        raise CommandError(f"the {name} command failed to load: {type(exc).__name__}: {exc}")

    return run


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hook"]:  # a hook starts once per tool call: its usual forms skip argparse
        from ._hook_run import fast_main

        status = fast_main(argv[1:])
        if status is not None:
            return status
    parser = build_parser(only=argv[0] if argv and argv[0] in COMMANDS else None)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            # a command may answer arguments it does not know itself (a hook answers in its protocol)
            unknown = getattr(args, "_unknown_arguments", None)
            if unknown is None:
                parser.error(f"unrecognized arguments: {' '.join(extra)}")
            else:
                unknown(extra)
    except SystemExit as exit_:  # --help and --version exit 0; argparse's usage errors exit 2
        code = exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
        return EXIT_USAGE if code == 2 else code
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args._run(args))
    except CommandError as err:
        print(f"agentguard {args.command}: {err}", file=sys.stderr)
        return err.status
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `agentguard runs | head`
        return EXIT_OK


__all__ = [
    "COMMANDS",
    "OUTCOME_SGR",
    "SEVERITY_SGR",
    "Command",
    "CommandError",
    "build_parser",
    "format_usd",
    "main",
    "paint",
    "plural",
    "use_color",
]
