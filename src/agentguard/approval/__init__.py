"""Approvals: a human (or your code) answers the actions a policy marks ``ask``.

>>> import agentguard as ag
>>> from agentguard.approval import AutoApprover, CallbackApprover, resolve
>>> action = ag.Action(kind="shell", tool="run", command="rm -rf build")
>>> ask = ag.Decision.ask("destructive command", rule_id="destructive_commands")
>>> resolve(AutoApprover("deny"), action, ask, None).granted
False
>>> result = resolve(CallbackApprover(lambda request: request.tool == "run"), action, ask, None)
>>> result.granted, result.by
(True, 'callback')
>>> result.as_decision(ask).outcome
'allow'

Approvers have a sync ``approve(request, *, timeout)`` and an async ``aapprove(request, *, timeout)``
(:class:`Approver`, :class:`AsyncApprover`). Built in: :class:`CallbackApprover`,
:class:`ConsoleApprover` (a TTY prompt; no TTY means deny), :class:`AutoApprover` and the durable
:class:`QueueApprover`, which another process answers through :class:`ApprovalStore` or
``agentguard approvals``: in one SQLite file, or in PostgreSQL (``url="postgresql://..."``,
``agentguard[postgres]``) for agents and approvers on different machines. An answer scoped ``run`` or
``always`` becomes a grant bound to the :func:`action_hash` of the action; grants can be listed and
revoked.
"""

from __future__ import annotations

from ._console import ConsoleApprover
from ._display import visible
from ._errors import AlreadyAnsweredError, ApprovalError, UnknownIdError
from ._hash import action_hash, summarise
from ._model import AnyApprover, ApprovalRequest, ApprovalResult, Approver, AsyncApprover, GrantScope
from ._postgres import redact_url
from ._queue import QueueApprover
from ._resolve import aresolve, build_request, resolve
from ._simple import AutoApprover, CallbackApprover
from ._store import ApprovalStore, Grant, RequestRecord, default_db_path, default_url, request_status

__all__ = [
    "AlreadyAnsweredError",
    "AnyApprover",
    "ApprovalError",
    "ApprovalRequest",
    "ApprovalResult",
    "ApprovalStore",
    "Approver",
    "AsyncApprover",
    "AutoApprover",
    "CallbackApprover",
    "ConsoleApprover",
    "Grant",
    "GrantScope",
    "QueueApprover",
    "RequestRecord",
    "UnknownIdError",
    "action_hash",
    "aresolve",
    "build_request",
    "default_db_path",
    "default_url",
    "redact_url",
    "request_status",
    "resolve",
    "summarise",
    "visible",
]
