"""Python source read with :mod:`ast`: weighted assertion counts, trivially-true functions.

Assertions are counted per test case: an ``assert`` inside a function decorated with
``@pytest.mark.parametrize(..., [a, b, c])`` counts three times, and one inside ``for x in [a, b]``
twice, so turning three copies of a test into a parametrised one keeps the count.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .._lazyre import lazy_compile

_CHECK_NAME = lazy_compile(
    r"^_*(?:verify|check|validate|is_valid|is_correct|is_ok|passes|assert_valid)\w*$|^\w+_(?:verify|check"
    r"|validate|is_valid)$"
)


@dataclass(frozen=True, slots=True)
class Assertions:
    weighted: int
    """Assertions, each times the number of cases it runs for."""
    trivial: int
    """Assertions that cannot fail (``assert True``, ``assert x == x``, ``assertTrue(1)``)."""


def parse(source: str | None) -> ast.Module | None:
    if not source:
        return None
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _literal_len(node: ast.expr) -> int | None:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return len(node.elts)
    if isinstance(node, ast.Dict):
        return len(node.keys)
    return None


def _cases(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    n = 1
    for dec in fn.decorator_list:
        if (
            isinstance(dec, ast.Call)
            and isinstance(dec.func, ast.Attribute)
            and dec.func.attr == "parametrize"
        ):
            values = (
                dec.args[1]
                if len(dec.args) > 1
                else next((k.value for k in dec.keywords if k.arg == "argvalues"), None)
            )
            size = _literal_len(values) if values is not None else None
            n *= max(size or 1, 1)
    return n


def _is_truthy_constant(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and bool(node.value) and not isinstance(node.value, str | bytes)


def _trivial(test: ast.expr) -> bool:
    if _is_truthy_constant(test):
        return True
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq | ast.Is):
        return ast.dump(test.left) == ast.dump(test.comparators[0])
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return any(_is_truthy_constant(v) for v in test.values)
    return False


def _call_name(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return ""


class _Counter(ast.NodeVisitor):
    def __init__(self) -> None:
        self.weighted = 0
        self.trivial = 0
        self.factor = 1

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        saved = self.factor
        self.factor = saved * _cases(node)
        self.generic_visit(node)
        self.factor = saved

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        size = _literal_len(node.iter)
        saved = self.factor
        self.factor = saved * max(size or 1, 1)
        self.generic_visit(node)
        self.factor = saved

    visit_AsyncFor = visit_For

    def visit_Assert(self, node: ast.Assert) -> None:
        if _trivial(node.test):
            self.trivial += 1
        else:
            self.weighted += self.factor
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _call_name(node)
        if name.startswith(("assert", "assert_")) or name in ("raises", "expect", "fail_unless"):
            if (name in ("assertTrue", "assert_") and node.args and _is_truthy_constant(node.args[0])) or (
                name == "assertEqual"
                and len(node.args) == 2
                and ast.dump(node.args[0]) == ast.dump(node.args[1])
            ):
                self.trivial += 1
            else:
                self.weighted += self.factor
        self.generic_visit(node)


def assertions(tree: ast.Module) -> Assertions:
    c = _Counter()
    c.visit(tree)
    return Assertions(c.weighted, c.trivial)


def _body(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    body = list(fn.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # docstring
    return body


def _returns_constant(fn: ast.FunctionDef | ast.AsyncFunctionDef, value: bool) -> bool:
    body = _body(fn)
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return False
    v = body[0].value
    if isinstance(v, ast.Constant):
        return v.value is value or (v.value == int(value) and not isinstance(v.value, str))
    return (
        isinstance(v, ast.UnaryOp)
        and isinstance(v.op, ast.Not)
        and isinstance(v.operand, ast.Constant)
        and (bool(v.operand.value) is not value)
    )


def functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function and method by (qualified) name."""
    out: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}

    def walk(nodes: list[ast.stmt], prefix: str) -> None:
        for n in nodes:
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef):
                out[prefix + n.name] = n
            elif isinstance(n, ast.ClassDef):
                walk(n.body, f"{prefix}{n.name}.")

    walk(tree.body, "")
    return out


def always_equal(tree: ast.Module) -> list[str]:
    """Methods ``__eq__`` that return ``True`` and ``__ne__`` that return ``False`` unconditionally."""
    found = []
    for name, fn in functions(tree).items():
        if (fn.name == "__eq__" and _returns_constant(fn, True)) or (
            fn.name == "__ne__" and _returns_constant(fn, False)
        ):
            found.append(name)
    return found


def stubbed_checks(old: ast.Module, new: ast.Module) -> list[str]:
    """Verify/check/validate functions whose real body became ``return True``."""
    before = functions(old)
    out = []
    for name, fn in functions(new).items():
        if not _CHECK_NAME.match(fn.name) or not _returns_constant(fn, True):
            continue
        prev = before.get(name)
        if prev is not None and not _returns_constant(prev, True) and len(_body(prev)) >= 1:
            out.append(name)
    return out


def is_stub(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A body that does nothing: ``pass``, ``...``, ``raise NotImplementedError``, or ``return None``."""
    body = _body(fn)
    if not body:
        return True
    if len(body) != 1:
        return False
    stmt = body[0]
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis:
        return True
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def is_abstract(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for dec in fn.decorator_list:
        name = dec.attr if isinstance(dec, ast.Attribute) else dec.id if isinstance(dec, ast.Name) else ""
        if name in ("abstractmethod", "overload", "abstractproperty"):
            return True
    return False


def stubs(tree: ast.Module) -> set[str]:
    return {name for name, fn in functions(tree).items() if is_stub(fn) and not is_abstract(fn)}


def imports(tree: ast.Module) -> set[str]:
    """Top-level names of absolute imports."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".", 1)[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".", 1)[0])
    return out
