"""The demo: a scripted OpenAI-compatible endpoint on loopback that plays a coding agent."""

from ._server import ScriptedServer, Step
from ._summary import print_summary, summarize

__all__ = ["ScriptedServer", "Step", "print_summary", "summarize"]
