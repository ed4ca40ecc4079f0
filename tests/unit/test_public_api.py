"""The public API is ``agentguard.PUBLIC``: one table that drives ``__all__`` and lazy loading.

These tests hold the rest to it: every name resolves to the object its module defines, the static
imports type checkers read name exactly the same set, and importing the package has no side effects.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import agentguard


def test_all_is_the_table() -> None:
    assert agentguard.__all__ == ["__version__", *sorted(agentguard.PUBLIC)]


@pytest.mark.parametrize("name", sorted(agentguard.PUBLIC))
def test_each_public_name_is_what_its_module_defines(name: str) -> None:
    module = importlib.import_module(agentguard.PUBLIC[name], "agentguard")
    value = getattr(agentguard, name)
    assert value is getattr(module, name, module)  # a name missing from its module is the module


def test_the_static_imports_name_the_table() -> None:
    """What type checkers read: the imports under TYPE_CHECKING, and the few made eagerly."""
    tree = ast.parse(Path(agentguard.__file__).read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    )
    eager = [
        node
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module not in (None, "_version")
    ]
    imported: dict[str, str] = {}
    for node in [*block.body, *eager]:
        assert isinstance(node, ast.ImportFrom)
        for alias in node.names:
            module = "." * node.level + (node.module or "")
            name = alias.asname or alias.name
            if name in agentguard._MODULES or not node.module:  # the name is a module itself
                module = f"{module}.{alias.name}" if node.module else f"{module}{alias.name}"
            imported[name] = module
    assert imported == agentguard.PUBLIC


def test_the_decorator_is_the_public_guarded_whatever_is_imported_first() -> None:
    code = """
from agentguard.instrumentation import guarded
import agentguard.instrumentation
import agentguard
assert agentguard.guarded is guarded and callable(guarded)
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "ok", out.stderr


def test_import_patches_nothing_and_sets_no_globals() -> None:
    """Importing agentguard must not patch openai or threading, nor set OTel providers."""
    code = """
import threading, openai.resources.chat.completions.completions as c
from opentelemetry import trace, metrics
before = (c.Completions.create, threading.Thread.start)
import agentguard
after = (c.Completions.create, threading.Thread.start)
assert before == after, "patched at import"
assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"
assert type(metrics.get_meter_provider()).__name__ == "_ProxyMeterProvider"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "ok", out.stderr


def test_package_is_typed() -> None:
    from importlib.resources import files

    assert files("agentguard").joinpath("py.typed").is_file()
