"""The scanner's fast decoding paths give exactly what the plain ones give: values, errors, spans."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentguard.scan import FormatError, decode_request, scan
from agentguard.traces import _otlp_json as _spans
from agentguard.traces._json import json_loads
from agentguard.traces._otlp_json import decode_spans

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
    # integers orjson would read as floats (beyond 64 bits), and the edges it reads exactly
    '{"intValue": 123456789012345678901234567890}',
    "[18446744073709551616, -9223372036854775809]",
    "[18446744073709551615, -9223372036854775808, 1700000000000000000]",
    '{"s": "12345678901234567890123 inside a string"}',
    "-0",
    '{"\\u0000": 1}',
]


def _outcome(fn: Any, text: str) -> tuple[str, Any]:
    try:
        return "value", fn(text)
    except json.JSONDecodeError as exc:
        return "error", (exc.msg, exc.pos, exc.lineno, exc.colno)


@pytest.fixture(params=["orjson", "json"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of reading a line: with the ``scan`` extra (orjson) and without it."""
    if request.param == "orjson":
        pytest.importorskip("orjson")
    else:
        monkeypatch.setattr(_spans, "orjson_loads", None)
    return str(request.param)


@pytest.mark.parametrize("text", DOCUMENTS)
def test_json_loads_is_json_loads(text: str) -> None:
    got, want = _outcome(json_loads, text), _outcome(json.loads, text)
    assert repr(got) == repr(want)  # repr: NaN != NaN, and -0.0 == 0.0, and 1 == 1.0


def _decoded(fn: Any, *args: Any) -> tuple[str, Any]:
    """What a decode gives: the spans' fields (repr: 1 and 1.0 differ), or the error and its message."""
    try:
        return "spans", repr(_fields(fn(*args)))
    except (json.JSONDecodeError, FormatError) as exc:
        return type(exc).__name__, str(exc)


def _reference(text: str, wanted: frozenset[str] | None) -> tuple[str, Any]:
    return _decoded(lambda: list(decode_request(json.loads(text), wanted)))


# Spans with odd values in every field the decoder reads: integers beyond 64 bits (which orjson
# would read as floats), floats, infinities, NaN, nulls, lists.
_ODD = [
    "123456789012345678901234567890", "-9223372036854775809", "18446744073709551616", "1e999", "NaN",
    "1.5", "-0", "0", "null", "true", "[1, 18446744073709551616]", '{"a": 99999999999999999999}', '""',
    '"x"', '"0011223344556677"', '"1700000000000000000"',
]  # fmt: skip
_FIELDS = [
    '"traceId": %s', '"spanId": %s', '"parentSpanId": %s', '"name": %s', '"startTimeUnixNano": %s',
    '"endTimeUnixNano": %s', '"status": {"code": %s, "message": "m"}', '"status": {"code": 2, "message": %s}',
    '"attributes": [{"key": %s, "value": {"stringValue": "v"}}]',
    '"attributes": [{"key": "gen_ai.tool.name", "value": {"stringValue": %s}}]',
    '"attributes": [{"key": "gen_ai.tool.name", "value": {"intValue": %s}}]',
    '"attributes": [{"key": "gen_ai.tool.name", "value": {"doubleValue": %s}}]',
    '"attributes": [{"key": "gen_ai.tool.name", "value": {"bytesValue": %s}}]',
    '"attributes": [{"key": "gen_ai.tool.name", "value": {"arrayValue": {"values": [{"intValue": %s}]}}}]',
    '"attributes": [{"key": "gen_ai.tool.name", "value": {"kvlistValue": {"values": [{"key": %s}]}}}]',
    '"attributes": [{"key": "unwanted", "value": {"intValue": %s}}]',
    '"events": [{"name": %s, "timeUnixNano": "5"}]', '"events": [{"name": "e", "timeUnixNano": %s}]',
    '"events": [{"name": "e", "attributes": [{"key": "k", "value": {"intValue": %s}}]}]',
]  # fmt: skip
_LINES = [
    '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "'
    + "ab" * 16
    + '", '
    + field % odd
    + "}]}]}]}"
    for field in _FIELDS
    for odd in _ODD
]
_WANTED = frozenset({"gen_ai.tool.name"})


@pytest.mark.parametrize("text", [*DOCUMENTS, *_LINES])
def test_decode_line_is_json_then_decode_request(reader: str, text: str) -> None:
    assert _decoded(_spans.decode_line, text, _WANTED) == _reference(text, _WANTED)
    assert _decoded(_spans.decode_line, text, None) == _reference(text, None)


_TOKENS = [
    "{", "}", "[", "]", ",", ":", " ", "\n", '"', '"k"', '"\\u00e9"', '"\\ud800"', '"\\"', "\\", "true",
    "false", "null", "NaN", "-Infinity", "0", "-0", "1", "-", ".", "5", "e", "E+", "9" * 19, "1" + "0" * 19,
    "1e999", "0.1", "01", "\t", "\x00", "\ufeff", "é", "\ud800",
]  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=16).map("".join), st.sampled_from(_FIELDS))
def test_decode_line_is_json_then_decode_request_on_any_value(value: str, field: str) -> None:
    text = '{"resourceSpans": [{"scopeSpans": [{"spans": [{' + field % value + "}]}]}]}"
    for orjson_loads in {_spans.orjson_loads, None}:
        saved, _spans.orjson_loads = _spans.orjson_loads, orjson_loads
        try:
            assert _decoded(_spans.decode_line, text, _WANTED) == _reference(text, _WANTED)
        finally:
            _spans.orjson_loads = saved


def test_orjson_reads_lines_when_installed() -> None:
    pytest.importorskip("orjson")
    assert _spans.orjson_loads is not None


def test_a_scan_reads_the_same_either_way(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("orjson")
    attrs = [
        {"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}},
        {"key": "gen_ai.tool.name", "value": {"stringValue": "run"}},
        {"key": "agentguard.tool.kind", "value": {"stringValue": "shell"}},
        {"key": "gen_ai.tool.call.arguments", "value": {"stringValue": '{"command": "git push --force"}'}},
        {"key": "agentguard.task", "value": {"intValue": 123456789012345678901234567890}},
    ]
    lines = [
        json.dumps(_doc(_span(attributes=attrs, startTimeUnixNano=1700000000000000000, events=None))),
        json.dumps(_doc(_span(spanId="ef" * 8, attributes=attrs[:4], events=None, status={"code": 0}))),
        '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 1e999}]}]}]}',
        '{"resourceSpans": [], "x": NaN}',
        "{broken",
        '{"resourceSpans": [1]}',
        '{"resourceSpans": [{"scopeSpans": [{"spans": ' + "[" * 5000 + "]" * 5000 + "}]}]}",
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with_orjson = scan([path]).to_dict()
    (first,) = _spans.decode_line(lines[0], frozenset({"agentguard.task"}))
    assert first.attributes == {"agentguard.task": 123456789012345678901234567890}  # exact, not a float
    monkeypatch.setattr(_spans, "orjson_loads", None)
    assert scan([path]).to_dict() == with_orjson
    assert with_orjson["spans"] == 3  # the infinite trace id reads as "inf", as json has it
    assert [(i["line"], i["message"].split(":")[0]) for i in with_orjson["issues"]] == [
        (5, "malformed JSON"),
        (6, "malformed resourceSpans"),
        (7, "malformed JSON"),
    ]


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
