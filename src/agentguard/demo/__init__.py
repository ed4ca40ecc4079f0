"""The demo: a scripted OpenAI-compatible endpoint on loopback that plays a coding agent."""

from ._server import ScriptedServer, Step

__all__ = ["ScriptedServer", "Step"]
