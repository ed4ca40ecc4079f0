"""The scanner's fast decoding paths give exactly what the plain ones give: values, errors, spans."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentguard.scan import FormatError, decode_request
from agentguard.scan._spans import decode_spans, json_loads

DOCUMENTS = [
    '{"resourceSpans": []}',
    '{"resourceSpans": []}\n',
    '{"resourceSpans": []}\r\n',
    '  {"a": 1}  ',
    "\t[1, 2.5, -3e2, true, false, null]\n",
    '"\\u00e9\\ud83d\\ude00 text"',
    '{"a": 1, "a": 2}',
    '{"big": 123456789012345678901234567890, "neg": -9223372036854775809}',
    '{"inf": Infinity, "nan": NaN, "ninf": -Infinity}',
    '{"huge": 1e999, "tiny": 5e-324, "f": 0.1}',
    '{"lone": "\\ud800"}',
    '{"nested": {"k": [{"v": {}}]}}',
    "0",
    "",
    "   ",
    "\ufeff{}",
    '{"a": 1} x',
    '{"a": 1}{"b": 2}',
    "{not json",
    '{"a": "tab\there"}',
    '{"a": 1,}',
    "[1, 2",
    "nul",
    '"unterminated',
    "\x00",
]


def _outcome(fn: Any, text: str) -> tuple[str, Any]:
    try:
        return "value", fn(text)
    except json.JSONDecodeError as exc:
        return "error", (exc.msg, exc.pos, exc.lineno, exc.colno)


@pytest.mark.parametrize("text", DOCUMENTS)
def test_json_loads_is_json_loads(text: str) -> None:
    got, want = _outcome(json_loads, text), _outcome(json.loads, text)
    assert repr(got) == repr(want)  # repr: NaN != NaN, and -0.0 == 0.0


def _span(**over: Any) -> dict[str, Any]:
    sp: dict[str, Any] = {
        "traceId": "AB" * 16,
        "spanId": "cd" * 8,
        "parentSpanId": "EjRWeJCrze8=",
        "name": "execute_tool run",
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": 1700000000000000001,
        "attributes": [
            {"key": "gen_ai.tool.name", "value": {"stringValue": "run"}},
            {"key": "skipped", "value": {"stringValue": "not wanted"}},
            {"key": "n", "value": {"intValue": "3"}},
        ],
        "events": [
            {"name": "e", "timeUnixNano": "5", "attributes": [{"key": "k", "value": {"boolValue": True}}]}
        ],
        "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
    }
    sp.update(over)
    return sp


def _doc(*spans: Any) -> dict[str, Any]:
    return {"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]}


def _fields(spans: Any) -> list[tuple[Any, ...]]:
    return [s.__reduce__()[1] for s in spans]


@pytest.mark.parametrize(
    "doc",
    [
        _doc(_span(), _span(name=None, status=None, events=None, parentSpanId=None)),
        _doc(_span(traceId=12345, spanId="short", name=7)),
        _doc(_span(status={"code": 1}), _span(status={"code": "weird"})),
        {"resourceSpans": [{"instrumentationLibrarySpans": [{"spans": [_span()]}]}]},
        {},
    ],
    ids=["plain", "odd-ids", "status-codes", "old-name", "empty"],
)
@pytest.mark.parametrize("wanted", [None, frozenset({"gen_ai.tool.name", "n"})])
def test_decode_spans_is_decode_request(doc: Any, wanted: frozenset[str] | None) -> None:
    assert _fields(decode_spans(doc, wanted)) == _fields(decode_request(doc, wanted))


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"other": 1},
        _doc(_span(startTimeUnixNano="abc")),
        _doc(_span(), _span(attributes=[{"value": {}}])),
        _doc(_span(events=5)),
        _doc("not a span"),
    ],
)
def test_decode_spans_raises_what_decode_request_raises(doc: Any) -> None:
    with pytest.raises(FormatError) as fast:
        decode_spans(doc)
    with pytest.raises(FormatError) as plain:
        list(decode_request(doc))
    assert str(fast.value) == str(plain.value)
