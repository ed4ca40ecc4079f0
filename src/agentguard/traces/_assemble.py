"""A session's recorded spans (and GenAI log events) as the detector event stream.

:func:`session_events` reads every span with the convention readers, then reconciles what several
writers recorded of the same thing:

* one tool call seen by several layers (an OpenInference ``TOOL`` span, agentguard's or util-genai's
  ``execute_tool``, MCP's ``tools/call`` on the client and on the server) is one call: a tool span
  inside another tool span with the same call id, the same tool name (MCP prefixes aside) or an MCP
  span is merged into the outermost, as are tool spans sharing a call id;
* a model call recorded twice (a framework's span around the SDK instrumentation's) is one turn;
* tool calls the model asked for (``tool_call`` parts, OpenInference ``tool_calls``, agentguard's
  ``gen_ai.tool.call`` events) that no tool span records are replayed as calls anyway, with the result
  the next model call was sent, so a requested ``base64 -d | sh`` is seen even when nothing traced
  the tool;
* an agent run with no recorded output gets the last assistant text of its model calls as its final
  answer; a session with no agent span at all gets a run around its spans (task: the first user
  message).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

from ..action import ACTION_KINDS, CANONICAL_ARGUMENTS, CANONICAL_BY_KIND, Action
from ..detect import (
    UNCAPTURED,
    Event,
    LLMTurn,
    PolicyEvent,
    RunEnd,
    RunStart,
    ToolCall,
    ToolResult,
    change_from_arguments,
    change_from_diff,
)
from . import _read_genai, _read_logs, _read_mcp, _read_openinference, _read_openllmetry
from ._messages import Message, RequestedCall, ToolResponse
from ._observations import (
    AgentObservation,
    ModelObservation,
    Observation,
    ToolObservation,
)
from ._readers import Reader, TimedEvent
from ._record import Span
from ._session import Session

READERS = (_read_openinference.read, _read_openllmetry.read, _read_mcp.read, _read_genai.read)
"""The span readers, most specific convention first: the first that recognises a span reads it."""


def observe(span: Span) -> Observation | None:
    """What ``span`` records, in whichever convention wrote it (``None`` for other spans)."""
    for reader in READERS:
        try:
            found = reader(span)
        except (TypeError, ValueError, AttributeError, KeyError):  # a malformed span: not readable
            continue
        if found is not None:
            return found
    return None


def _strip(name: str) -> str:
    from ..normalise import strip_tool_prefix as strip_prefix

    return strip_prefix(name).lower()


def _same_call(inner: ToolObservation, outer: ToolObservation) -> bool:
    """Whether two nested tool spans record one call: the same call id when both have one; else not
    when both recorded different arguments; else the same tool name (MCP server prefixes aside), or an
    MCP span that names no tool."""
    if inner.call_id and outer.call_id:
        return inner.call_id == outer.call_id
    a, b = inner.arguments, outer.arguments
    if a is not UNCAPTURED and b is not UNCAPTURED and a and b and dict(a) != dict(b):
        return False
    if _strip(inner.name) == _strip(outer.name):
        return True
    return (inner.mcp and inner.name in ("", "tool")) or (outer.mcp and outer.name in ("", "tool"))


def _merge_tool(into: ToolObservation, other: ToolObservation) -> None:
    if into.arguments is UNCAPTURED and other.arguments is not UNCAPTURED:
        into.arguments = other.arguments
    if into.result is None:
        into.result = other.result
    into.error = into.error or other.error
    into.call_id = into.call_id or other.call_id
    into.kind = into.kind or other.kind
    into.diff = into.diff or other.diff
    into.decisions.extend(other.decisions)
    if _strip(into.name) == _strip(other.name) and len(other.name) < len(into.name):
        into.name = other.name  # the name the model used, without a server prefix


def _merge_model(into: ModelObservation, other: ModelObservation) -> None:
    if not into.inputs:
        into.inputs = other.inputs
    if not into.outputs or not any(m.text or m.calls for m in into.outputs):
        into.outputs = other.outputs
    into.refusal = into.refusal or other.refusal


def _ancestors(
    obs: Observation, by_span: Mapping[str, Observation], parents: Mapping[str, str]
) -> Iterator[Observation]:
    """The observations above ``obs``, nearest first (through spans that are no observation)."""
    seen = 0
    current = parents.get(obs.span.span_id, "")
    while current and seen < 256:
        seen += 1
        other = by_span.get(current)
        if other is not None:
            yield other
        current = parents.get(current, "")


def _depth(obs: Observation, by_span: Mapping[str, Observation], parents: Mapping[str, str]) -> int:
    return sum(1 for _ in _ancestors(obs, by_span, parents))


def _target(
    obs: Observation,
    by_span: Mapping[str, Observation],
    parents: Mapping[str, str],
    into: Mapping[int, Observation],
) -> Observation | None:
    """The kept observation ``obs`` merges into: its outermost ancestor of the same type that stands
    for the same thing, through nested ones that do too (a tool span under a different tool call is
    its own call); an ancestor already merged stands for the one it merged into."""
    found: Observation | None = None
    for other in _ancestors(obs, by_span, parents):
        if type(other) is not type(obs):
            continue
        if (
            isinstance(obs, ToolObservation)
            and isinstance(other, ToolObservation)
            and not _same_call(obs, other)
        ):
            break
        root = into.get(id(other), other)
        if (
            isinstance(obs, ToolObservation)
            and isinstance(root, ToolObservation)
            and not _same_call(obs, root)
        ):
            continue
        found = root
    return found


def _reconcile(
    observations: Sequence[Observation], by_span: dict[str, Observation], parents: Mapping[str, str]
) -> list[Observation]:
    into: dict[int, Observation] = {}  # id of a merged observation -> the kept one it merged into
    merged: set[int] = set()
    for obs in sorted(observations, key=lambda o: _depth(o, by_span, parents)):  # outer ones first
        outer = _target(obs, by_span, parents, into)
        if outer is None:
            continue
        if isinstance(obs, ToolObservation) and isinstance(outer, ToolObservation):
            _merge_tool(outer, obs)
        elif isinstance(obs, ModelObservation) and isinstance(outer, ModelObservation):
            _merge_model(outer, obs)
        elif isinstance(obs, AgentObservation) and isinstance(outer, AgentObservation):
            outer.task = outer.task or obs.task
            outer.final = outer.final if outer.final is not None else obs.final
            outer.error = outer.error or obs.error
            outer.scope_root = outer.scope_root or obs.scope_root
            outer.scope_write = outer.scope_write or obs.scope_write
            outer.scope_hosts = outer.scope_hosts or obs.scope_hosts
        into[id(obs)] = outer
        merged.add(id(obs))
    out = [o for o in observations if id(o) not in merged]
    by_call: dict[str, ToolObservation] = {}
    kept: list[Observation] = []
    for o in sorted(out, key=lambda o: o.span.start):
        if isinstance(o, ToolObservation) and o.call_id:
            first = by_call.get(o.call_id)
            if first is not None:
                _merge_tool(first, o)
                continue
            by_call[o.call_id] = o
        kept.append(o)
    return kept


# -- events ------------------------------------------------------------------------------------------
def _action(name: str, arguments: Mapping[str, Any], kind: str | None, call_id: str) -> Action:
    if kind is not None and kind in ACTION_KINDS:
        action = Action(kind=kind, tool=name, arguments=arguments)  # type: ignore[arg-type]
        for canonical in CANONICAL_BY_KIND.get(kind, ()):
            for candidate in CANONICAL_ARGUMENTS[canonical]:
                value = arguments.get(candidate)
                if value is not None:
                    setattr(action, canonical, value if isinstance(value, str) else str(value))
                    break
    else:
        from ..normalise import action_from_tool_call

        action = action_from_tool_call(name, arguments)
    if call_id:
        action.call_id = call_id
    return action


def _tool_events(
    obs: ToolObservation, call_time: int, end_time: int, span_id: str, add: Any, *, ran: bool = True
) -> None:
    action = _action(obs.name, obs.arguments, obs.kind, obs.call_id)
    add((call_time, 1, ToolCall(span_id=span_id, action=action)))
    for d in obs.decisions:
        add(
            (
                d.time,
                2,
                PolicyEvent(
                    span_id=span_id, action=action, outcome=d.outcome, rule_ids=d.rule_ids, reason=d.reason
                ),
            )
        )
    change = None
    if action.kind == "file_write" and obs.error is None:
        change = change_from_diff(action.path or "", obs.diff) if obs.diff else change_from_arguments(action)
    add(
        (
            end_time,
            3,
            ToolResult.from_text(
                span_id=span_id, action=action, output=obs.result, error=obs.error, change=change
            ),
        )
    )


def _turn_text(outputs: Sequence[Message]) -> str:
    for m in outputs:
        if m.text:
            return m.text
    return ""


def read_session(session: Session) -> list[TimedEvent]:
    """The ``conventions`` reader: ``(time, order, event)`` for every span of ``session``."""
    return timed_events(session.spans)


def events(spans: Iterable[Span]) -> list[Event]:
    """Every detector event of a session's span records (log records included), in time order."""
    return [ev for _, _, ev in timed_events(spans)]


def timed_events(spans: Iterable[Span]) -> list[TimedEvent]:
    """``(time, order, event)`` for a session's span records, sorted (see the module docstring)."""
    span_list: list[Span] = []
    logs: list[Span] = []
    for span in spans:
        (logs if _read_logs.is_log(span) else span_list).append(span)
    observations: list[Observation] = []
    for span in span_list:
        found = observe(span)
        if found is not None:
            observations.append(found)
    _read_logs.attach(observations, logs)
    by_span = {o.span.span_id: o for o in observations}
    parents = {s.span_id: s.parent_id for s in span_list}
    observations = _reconcile(observations, by_span, parents)

    timed: list[TimedEvent] = []
    add = timed.append
    tools = [o for o in observations if isinstance(o, ToolObservation)]
    models = sorted((o for o in observations if isinstance(o, ModelObservation)), key=lambda o: o.span.end)
    agents = sorted((o for o in observations if isinstance(o, AgentObservation)), key=lambda o: o.span.start)

    responses: dict[str, ToolResponse] = {}
    asked: dict[str, RequestedCall] = {}
    for m in models:
        for msg in (*m.inputs, *m.outputs):
            for r in msg.responses:
                if r.id and r.id not in responses:
                    responses[r.id] = r
            for c in msg.calls:
                if c.id and (c.id not in asked or asked[c.id].arguments is UNCAPTURED):
                    asked[c.id] = c
    for t in tools:
        if t.call_id:  # what the model asked for and was sent back fills in what the tool span lacks
            if t.arguments is UNCAPTURED and t.call_id in asked:
                t.arguments = asked[t.call_id].arguments
            if t.result is None and t.call_id in responses:
                t.result = responses[t.call_id].text
        _tool_events(t, t.span.start, t.span.end, t.span.span_id, add)

    # model-requested calls no tool span recorded
    executed_ids = {t.call_id for t in tools if t.call_id}
    unmatched_names: dict[str, list[ToolObservation]] = {}
    for t in sorted(tools, key=lambda t: t.span.start):
        if not t.call_id:
            unmatched_names.setdefault(_strip(t.name), []).append(t)
    requested: set[str] = set()
    for m in models:
        calls: list[RequestedCall] = [c for msg in m.outputs for c in msg.calls]
        turn_calls = tuple((c.name, c.raw) for c in calls)
        add(
            (
                m.span.end,
                4,
                LLMTurn(
                    span_id=m.span.span_id,
                    text=_turn_text(m.outputs),
                    tool_calls=turn_calls,
                    refusal=m.refusal,
                ),
            )
        )
        for index, c in enumerate(calls):
            key = c.id or f"{m.span.span_id}\0{index}"  # without an id, each request of a turn is its own
            if key in requested or (c.id and c.id in executed_ids):
                continue
            requested.add(key)
            waiting = unmatched_names.get(_strip(c.name))
            if waiting and waiting[0].span.start >= m.span.start:
                waiting.pop(0)  # a tool span without a call id ran it
                continue
            response = responses.get(c.id) if c.id else None
            intent = ToolObservation(
                span=m.span, name=c.name, call_id=c.id, arguments=c.arguments,
                result=response.text if response is not None else None,
            )  # fmt: skip
            _tool_events(intent, m.span.end, m.span.end, m.span.span_id, add)

    # runs
    def final_between(start: int, end: int) -> str | None:
        for m in reversed(models):
            if start <= m.span.end <= end or not (start or end):
                for msg in reversed(m.outputs):
                    if msg.role in ("assistant", "") and msg.text.strip() and not msg.calls:
                        return msg.text
        return None

    def first_task() -> str | None:
        for m in sorted(models, key=lambda o: o.span.start):
            task = _read_genai.first_user_text(m.inputs)
            if task:
                return task
        return None

    if agents:
        for a in agents:
            s = a.span
            task = a.task or first_task()
            add(
                (
                    s.start,
                    0,
                    RunStart(
                        span_id=s.span_id,
                        task=task,
                        scope_root=a.scope_root,
                        scope_write=a.scope_write,
                        scope_hosts=a.scope_hosts,
                    ),
                )
            )
            final = a.final if a.final is not None else final_between(s.start, s.end)
            add((s.end, 9, RunEnd(span_id=s.span_id, final=final, error=a.error)))
    elif span_list and (models or tools):
        first = min(span_list, key=lambda s: (s.start, bool(s.parent_id)))
        start = min(s.start for s in span_list)
        end = max(s.end for s in span_list)
        add((start, 0, RunStart(span_id=first.span_id, task=first_task())))
        add((end, 9, RunEnd(span_id=first.span_id, final=final_between(0, 0))))
    timed.sort(key=itemgetter(0, 1))
    return timed


READER = Reader(
    name="conventions",
    read=read_session,
    attributes=frozenset(
        {
            *_read_genai.ATTRIBUTES,
            *_read_openinference.ATTRIBUTES,
            *_read_openllmetry.ATTRIBUTES,
            *_read_mcp.ATTRIBUTES,
        }
    ),
    prefixes=(*_read_openinference.PREFIXES, *_read_openllmetry.PREFIXES, *_read_mcp.PREFIXES),
)
"""Every convention this package reads, as one reader: duplicates across conventions are reconciled
within a session, so they must be read together."""
