"""The policy's fast decision constructor builds exactly what ``Decision(...)`` builds."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from agentguard import Decision, Vote
from agentguard.policy._policy import new_decision

_outcomes = st.sampled_from(["allow", "deny", "ask"])
_ids = st.lists(st.text(min_size=1, max_size=12), max_size=3).map(tuple)
_votes = st.lists(
    st.builds(Vote, rule_id=st.text(min_size=1, max_size=8), outcome=_outcomes, reason=st.text(max_size=20)),
    max_size=3,
).map(tuple)
_fields = st.fixed_dictionaries(
    {"outcome": _outcomes},
    optional={
        "reason": st.text(max_size=40),
        "rule_ids": _ids,
        "matched": _ids,
        "mode": st.sampled_from(["enforce", "shadow"]),
        "votes": _votes,
        "facts": st.none() | st.just({"kind": "shell"}),
        "approval": st.none() | st.just(object()),
        "policy": st.text(max_size=10),
    },
)


@given(_fields)
def test_the_fast_constructor_equals_the_dataclass(kwargs: dict[str, Any]) -> None:
    fast, slow = new_decision(**kwargs), Decision(**kwargs)
    assert type(fast) is Decision
    assert fast == slow and hash(fast) == hash(slow)
    for f in fields(Decision):  # facts and approval are left out of ==; compare them too
        assert getattr(fast, f.name) is getattr(slow, f.name) or getattr(fast, f.name) == getattr(
            slow, f.name
        )
    assert fast.blocks == slow.blocks and fast.summary() == slow.summary()
