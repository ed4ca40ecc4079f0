"""The import contract: the architecture of DESIGN.md, checked on the source tree with ``ast``.

- **Layers**: adapters (``instrumentation``: ``@tool``, ``@guarded``, the OpenAI instrumentation;
  ``integrations``) import the guard; the guard (``guard``: runs and steps) imports policy, approval,
  spend (prices and the ledger) and detection; those import the telemetry and action model below
  them. No runtime import points back up (imports under ``TYPE_CHECKING`` are for annotations and
  may name any layer).
- **No circles** among module-level imports.
- **Private means private**: a module ``pkg._mod`` is imported only from inside ``pkg``. The
  imports in :data:`PRIVATE_IMPORTS_BEFORE_THE_CONTRACT` predate this rule; the list may only
  shrink, and adapters and the guard have none.

``make lint`` runs this module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = "agentguard"

# Higher numbers sit above lower ones; a runtime import may only go to the same layer or below.
ADAPTERS, GUARD, SERVICES = 3, 2, 1
LAYERS: dict[str, int] = {
    "agentguard.instrumentation": ADAPTERS,
    "agentguard.integrations": ADAPTERS,
    "agentguard.guard": GUARD,
    "agentguard.policy": SERVICES,
    "agentguard.approval": SERVICES,
    "agentguard.spend": SERVICES,
    "agentguard.detect": SERVICES,
}
"""Modules not named here (the action model, telemetry, the CLI...) are not layered."""


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    module_level: bool
    type_only: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((SRC / ROOT).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = source.split(".") if is_package else source.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(name: str, path: Path, known: set[str]) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"

    def walk(nodes: list[ast.stmt], module_level: bool, type_only: bool) -> Iterator[Import]:
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(name, alias.name, node.lineno, module_level, type_only)
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(name, is_package, node)
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    yield Import(name, sub if sub in known else target, node.lineno, module_level, type_only)
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                yield from walk(node.body, module_level, True)
                yield from walk(node.orelse, module_level, type_only)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from walk(node.body, False, type_only)
            elif isinstance(node, ast.ClassDef):
                yield from walk(node.body, module_level, type_only)
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        stmts = [s for s in inner if isinstance(s, ast.stmt)]
                        for handler in inner:
                            if isinstance(handler, ast.ExceptHandler):
                                stmts.extend(handler.body)
                        yield from walk(stmts, module_level, type_only)

    yield from walk(tree.body, True, False)


def _all_imports() -> list[Import]:
    modules = _modules()
    known = set(modules)
    return [
        imp
        for name, path in modules.items()
        for imp in _imports(name, path, known)
        if imp.target == ROOT or imp.target.startswith(ROOT + ".")
    ]


def _layer(module: str) -> int | None:
    while module:
        if module in LAYERS:
            return LAYERS[module]
        module = module.rpartition(".")[0]
    return None


def test_no_runtime_import_points_up_the_layers() -> None:
    upward = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in _all_imports()
        if not i.type_only
        and (low := _layer(i.source)) is not None
        and (high := _layer(i.target)) is not None
        and high > low
    ]
    assert upward == []


def test_no_module_level_import_circles() -> None:
    graph: dict[str, set[str]] = {}
    for i in _all_imports():
        if i.module_level and not i.type_only and i.target != i.source:
            graph.setdefault(i.source, set()).add(i.target)
    # a package's __init__ importing its own submodules is how packages load; a submodule importing
    # back into its package's __init__ is what makes a circle, and that is what this finds
    cycles = _cycles(graph)
    assert cycles == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _private_owner(target: str) -> str | None:
    """The package a private module belongs to (``a.b`` for ``a.b._c.d``), else ``None``."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


PRIVATE_IMPORTS_BEFORE_THE_CONTRACT: frozenset[tuple[str, str]] = frozenset(
    {
        ("agentguard.cli._demo", "agentguard.demo._run"),
        ("agentguard.dashboard._source", "agentguard.export._sqlite"),
        ("agentguard.detect._circumvention", "agentguard.policy._rules._agents"),
        ("agentguard.detect._destructive", "agentguard.policy._rules._destructive"),
        ("agentguard.detect._exfiltration", "agentguard.policy._rules._secrets"),
        ("agentguard.detect._scope_creep", "agentguard.policy._globs"),
        ("agentguard.policy._match", "agentguard.normalise._urls"),
        ("agentguard.policy._policy", "agentguard.normalise._facts"),
        ("agentguard.scan._runner", "agentguard.detect._engine"),
        ("agentguard.scan._sessions", "agentguard.detect._engine"),
        ("agentguard.scan._sessions", "agentguard.detect._signal"),
    }
)
"""(importer, private module) pairs that existed when the contract was written."""


def _leaks() -> list[Import]:
    return [
        i
        for i in _all_imports()
        if (owner := _private_owner(i.target)) is not None
        and i.source != owner
        and not i.source.startswith(owner + ".")
    ]


def test_no_new_import_of_another_packages_private_module() -> None:
    new = sorted(
        {f"{i.source}:{i.line} imports {i.target}" for i in _leaks()}
        - {
            f"{i.source}:{i.line} imports {i.target}"
            for i in _leaks()
            if (i.source, i.target) in PRIVATE_IMPORTS_BEFORE_THE_CONTRACT
        }
    )
    assert new == []


def test_the_list_of_older_private_imports_has_no_entry_that_is_gone() -> None:
    """The list only shrinks: an entry whose import was removed is removed from the list too."""
    assert PRIVATE_IMPORTS_BEFORE_THE_CONTRACT - {(i.source, i.target) for i in _leaks()} == set()


def test_adapters_and_the_guard_import_no_private_module_of_another_package() -> None:
    layered = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in _leaks()
        if (layer := _layer(i.source)) is not None and layer >= GUARD
    ]
    assert layered == []


@pytest.mark.parametrize(
    ("target", "owner"),
    [
        ("agentguard.policy._budget", "agentguard.policy"),
        ("agentguard._safe", "agentguard"),
        ("agentguard.run", None),
    ],
)
def test_private_owner(target: str, owner: str | None) -> None:
    assert _private_owner(target) == owner
