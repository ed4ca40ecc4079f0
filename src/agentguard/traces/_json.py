"""Reading JSON text fast: orjson when the ``scan`` extra is installed, else the stdlib scanner directly."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

# the scanner json.loads ends in (C), with the same (default) settings
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def json_loads(text: str) -> Any:
    """``json.loads(text)``, same value and same errors, without its Python-level layers for the
    common case (a document with no leading whitespace): the scanner reads it directly, and anything
    else (whitespace around, trailing data, an error) goes through ``json.loads`` itself."""
    try:
        value, end = _scan_once(text, 0)
    except (StopIteration, ValueError):
        return json.loads(text)
    if end != len(text) and text[end:].strip(" \t\n\r"):
        return json.loads(text)  # raises "Extra data" exactly as it does
    return value


def json_or_none(text: Any) -> Any:
    """The JSON value of a non-empty string, else ``None`` (also for text that is not JSON)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return json_loads(text)
    except (ValueError, RecursionError):
        return None


def _orjson_reader() -> Callable[[str | bytes], Any] | None:
    """orjson's ``loads`` when the ``scan`` extra is installed, else ``None`` (json reads every line:
    the same values, slower). Imported by name so that type checking holds either way."""
    try:
        module = importlib.import_module("orjson")
    except ImportError:
        return None
    loads: Callable[[str | bytes], Any] = module.loads
    return loads


orjson_loads = _orjson_reader()
