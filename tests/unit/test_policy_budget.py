"""Budgets: reservations under a lock so concurrent LLM calls never overshoot; reconcile after."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from openai.types.chat import ChatCompletionMessageParam
from test_openai_fakes import FakeServer, chat_completion

import agentguard as ag
from agentguard.policy import Budget, Policy, reconcile, release, rules
from agentguard.testing import CapturingGuard

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


def llm() -> ag.Action:
    return ag.Action(kind="llm", tool="openai.chat", model="gpt-4o-mini")


def test_threads_racing_reservations_never_overshoot() -> None:
    ledger = Budget()
    admitted: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def worker(i: int) -> None:
        start.wait()
        for j in range(50):
            key = (i, j)
            if ledger.reserve(key, usd=0.01, tokens=10, limit_usd=1.0, limit_tokens=None) is None:
                with lock:
                    admitted.append(1)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 100  # exactly $1.00 of $0.01 reservations, never more
    assert ledger.reserved_usd == pytest.approx(1.0)


def test_concurrent_calls_in_a_run_are_admitted_only_while_they_fit() -> None:
    policy = Policy(rules=[rules.budget(usd=0.10, estimate_usd=0.03)])
    outcomes: list[str] = []
    lock = threading.Lock()

    @ag.guarded(policy=policy, guard=ag.Guard())
    def agent() -> None:
        run = ag.current_run()
        barrier = threading.Barrier(8)

        def call() -> None:
            barrier.wait()
            decision = policy.check(llm(), run)
            with lock:
                outcomes.append(decision.outcome)

        threads = [threading.Thread(target=call) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    agent()
    assert outcomes.count("allow") == 3  # 3 x $0.03 fits in $0.10, a fourth would not
    assert outcomes.count("deny") == 5


def test_reconcile_replaces_the_estimate_with_the_real_cost() -> None:
    policy = Policy(rules=[rules.budget(usd=1.0, estimate_usd=0.4)])
    seen: list[str] = []

    @ag.guarded(policy=policy, guard=ag.Guard())
    def agent() -> None:
        run = ag.current_run()
        assert run is not None
        first, second = llm(), llm()
        assert policy.check(first, run).outcome == "allow"
        assert policy.check(second, run).outcome == "allow"
        third = llm()
        seen.append(policy.check(third, run).outcome)  # 0.8 reserved + 0.4 > 1.0
        reconcile(run, first, cost_usd=0.05, tokens=100)
        release(run, second)  # never sent
        seen.append(policy.check(llm(), run).outcome)  # 0.05 spent + 0.4
        assert run.budget.spent_usd == pytest.approx(0.05)
        assert run.budget.spent_tokens == 100

    agent()
    assert seen == ["deny", "allow"]


def test_unknown_cost_counts_the_estimate() -> None:
    ledger = Budget()
    assert ledger.reserve("k", usd=0.3, tokens=50, limit_usd=1.0, limit_tokens=None) is None
    ledger.reconcile("k", usd=None, tokens=None)
    assert (ledger.spent_usd, ledger.spent_tokens) == (0.3, 50)


def test_token_budget_and_two_budget_rules_share_one_reservation() -> None:
    policy = Policy(
        rules=[rules.budget(tokens=1000, estimate_tokens=400), rules.budget(usd=1.0, estimate_usd=0.1)]
    )

    @ag.guarded(policy=policy, guard=ag.Guard())
    def agent() -> list[str]:
        run = ag.current_run()
        return [policy.check(llm(), run).outcome for _ in range(3)]

    assert agent() == ["allow", "allow", "deny"]


def test_a_spent_budget_denies_even_a_free_estimate() -> None:
    ledger = Budget()
    ledger.reconcile("k", usd=2.0, tokens=0)
    reason = ledger.reserve("k2", usd=0.0, tokens=0, limit_usd=1.0, limit_tokens=None)
    assert reason is not None and "budget of $1.00 (spent $2.00" in reason


def test_outside_a_run_only_an_impossible_call_is_denied() -> None:
    assert Policy(rules=[rules.budget(usd=1.0)]).check(llm()).outcome == "allow"
    assert Policy(rules=[rules.budget(usd=1.0, estimate_usd=5.0)]).check(llm()).outcome == "deny"


def test_budget_needs_a_limit() -> None:
    with pytest.raises(ValueError):
        rules.budget()


@pytest.fixture
def server() -> FakeServer:
    s = FakeServer()
    s.json("/chat/completions", chat_completion())
    return s


@pytest.fixture
def instrumented() -> Iterator[None]:
    yield
    ag.uninstrument_openai()


class FixedPrices(ag.PriceBook):
    def cost(self, *, model: str, provider: str | None, usage: ag.TokenUsage) -> float | None:
        return 0.25


@pytest.mark.usefixtures("instrumented")
def test_the_openai_instrumentation_reserves_and_reconciles(server: FakeServer) -> None:
    cap = CapturingGuard(prices=FixedPrices(), policy=Policy(rules=[rules.budget(usd=0.6, estimate_usd=0.3)]))
    ag.instrument_openai()
    client = server.client()

    @ag.guarded(guard=cap.guard)
    def agent() -> tuple[float, float]:
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # reserves 0.3, costs 0.25
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # 0.25 + 0.3 fits in 0.6
        run = ag.current_run()
        assert run is not None
        spent = (run.budget.spent_usd, run.budget.reserved_usd)
        with pytest.raises(ag.Denied, match="budget"):
            client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # 0.5 + 0.3 > 0.6
        return spent

    assert agent() == (pytest.approx(0.5), 0.0)  # type: ignore[comparison-overlap]
    assert len(server.requests) == 2
