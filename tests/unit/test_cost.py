"""PriceBook: exact agreement with genai-prices, cached/reasoning tokens, unknown models, overrides."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from genai_prices import Usage, calc_price, data_snapshot
from genai_prices import update_prices as genai_update_prices

from agentguard._safe import reset_warnings
from agentguard.spend import Price, PriceBook, TokenUsage

PLAIN = TokenUsage(input_tokens=1_000, output_tokens=500)
CACHED = TokenUsage(input_tokens=10_000, output_tokens=300, cache_read_tokens=8_000)
REASONING = TokenUsage(input_tokens=2_000, output_tokens=3_000, reasoning_tokens=2_500)
CACHE_WRITE = TokenUsage(
    input_tokens=5_000, output_tokens=100, cache_read_tokens=1_000, cache_write_tokens=3_000
)
LONG_PROMPT = TokenUsage(input_tokens=250_000, output_tokens=1_000, cache_read_tokens=50_000)


def genai_cost(model: str, provider: str | None, usage: TokenUsage) -> float:
    """What genai-prices' own calc_price says (the reference the fast path must match)."""
    genai_usage = Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        output_reasoning_tokens=usage.reasoning_tokens,
    )
    return float(calc_price(genai_usage, model, provider_id=provider).total_price)


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        pytest.param("gpt-4o-mini", "openai", id="gpt-4o-mini"),
        pytest.param("gpt-4o", "openai", id="gpt-4o"),
        pytest.param("o3-mini", "openai", id="o3-mini-reasoning"),
        pytest.param("gpt-4o-mini-2024-07-18", None, id="dated-id-no-provider"),
        pytest.param("gpt-4o-2024-05-13", "openai", id="dated-id-own-price"),
        pytest.param("claude-sonnet-4-5", "anthropic", id="claude-tiered-cache-write"),
        pytest.param("gemini-2.5-pro", None, id="gemini-tiered-by-prompt-size"),
        pytest.param("deepseek-chat", "deepseek", id="time-of-day-price-falls-back"),
        pytest.param("gpt-4o", "azure.ai.openai", id="otel-provider-name"),
    ],
)
@pytest.mark.parametrize(
    "usage",
    [
        pytest.param(PLAIN, id="plain"),
        pytest.param(CACHED, id="cached"),
        pytest.param(REASONING, id="reasoning"),
        pytest.param(CACHE_WRITE, id="cache-write"),
        pytest.param(LONG_PROMPT, id="long-prompt"),
    ],
)
def test_cost_matches_genai_prices_calc_price(model: str, provider: str | None, usage: TokenUsage) -> None:
    book = PriceBook()
    reference_provider = "azure" if provider == "azure.ai.openai" else provider
    expected = genai_cost(model, reference_provider, usage)
    assert book.cost(model=model, provider=provider, usage=usage) == pytest.approx(expected, rel=1e-9)
    # the second call comes from the resolved-price cache and says the same
    assert book.cost(model=model, provider=provider, usage=usage) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        # $0.15 input, $0.075 cached input, $0.60 output per million tokens
        pytest.param(TokenUsage(input_tokens=1_000_000), 0.15, id="input"),
        pytest.param(TokenUsage(output_tokens=1_000_000), 0.60, id="output"),
        pytest.param(TokenUsage(input_tokens=1_000_000, cache_read_tokens=1_000_000), 0.075, id="all-cached"),
        pytest.param(
            TokenUsage(input_tokens=1_000, cache_read_tokens=400, output_tokens=500, reasoning_tokens=200),
            (600 * 0.15 + 400 * 0.075 + 500 * 0.60) / 1e6,
            id="reasoning-counted-once-as-output",
        ),
        pytest.param(TokenUsage(), 0.0, id="no-tokens"),
    ],
)
def test_gpt_4o_mini_by_hand(usage: TokenUsage, expected: float) -> None:
    assert PriceBook().cost(model="gpt-4o-mini", provider="openai", usage=usage) == pytest.approx(expected)


def test_prompt_size_tier_prices_every_token_at_the_tier_rate() -> None:
    book = PriceBook()
    below = book.cost(model="gemini-2.5-pro", provider="google", usage=TokenUsage(input_tokens=200_000))
    above = book.cost(model="gemini-2.5-pro", provider="google", usage=TokenUsage(input_tokens=200_001))
    assert below == pytest.approx(genai_cost("gemini-2.5-pro", "google", TokenUsage(input_tokens=200_000)))
    assert above == pytest.approx(genai_cost("gemini-2.5-pro", "google", TokenUsage(input_tokens=200_001)))
    assert above is not None and below is not None and above > below * 1.5


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        pytest.param("no-such-model", None, id="unknown-model"),
        pytest.param("no-such-model", "openai", id="unknown-model-known-provider"),
        pytest.param("llama3.2:1b", "ollama", id="unknown-provider"),
        pytest.param("qwen2.5:0.5b", "openai", id="local-model-via-openai-client"),
        pytest.param("whisper-1", "openai", id="priced-by-audio-not-tokens"),
        pytest.param("", None, id="empty-model"),
    ],
)
def test_unpriced_models_cost_none(model: str, provider: str | None) -> None:
    book = PriceBook()
    assert book.cost(model=model, provider=provider, usage=PLAIN) is None
    assert book.cost(model=model, provider=provider, usage=PLAIN) is None  # cached as unknown


def test_model_listed_as_free_costs_zero() -> None:
    usage = TokenUsage(input_tokens=1_000, output_tokens=1_000)
    assert PriceBook().cost(model="deepseek/deepseek-r1:free", provider="openrouter", usage=usage) == 0.0


@pytest.mark.parametrize(
    "usage",
    [
        pytest.param(TokenUsage(input_tokens=10, cache_read_tokens=20), id="cached-more-than-input"),
        pytest.param(TokenUsage(output_tokens=10, reasoning_tokens=20), id="reasoning-more-than-output"),
        pytest.param(TokenUsage(input_tokens=-1), id="negative"),
    ],
)
def test_inconsistent_usage_costs_none_and_is_reported(
    usage: TokenUsage, caplog: pytest.LogCaptureFixture
) -> None:
    reset_warnings()
    with caplog.at_level(logging.WARNING, logger="agentguard"):
        assert PriceBook().cost(model="gpt-4o-mini", provider="openai", usage=usage) is None
    assert "inconsistent token usage" in caplog.text


def test_cost_never_raises_on_wrong_types() -> None:
    bad: Any = object()
    assert PriceBook().cost(model="gpt-4o-mini", provider="openai", usage=bad) is None
    assert PriceBook().cost(model=bad, provider=None, usage=PLAIN) is None


# -- overrides ---------------------------------------------------------------------------------------
MY_PRICE = Price(input=1.0, output=2.0, cache_read=0.5)


@pytest.mark.parametrize(
    ("overrides", "model", "provider", "usage", "expected"),
    [
        pytest.param(
            {"my-model": MY_PRICE},
            "my-model",
            None,
            TokenUsage(input_tokens=1_000_000, output_tokens=1_000_000),
            3.0,
            id="model-key",
        ),
        pytest.param(
            {"my-model": MY_PRICE},
            "my-model",
            "vllm",
            TokenUsage(input_tokens=1_000_000, cache_read_tokens=600_000),
            0.4 + 0.3,
            id="cached-at-cache-read-rate",
        ),
        pytest.param(
            {"my-model": Price(input=1.0, output=2.0)},
            "my-model",
            None,
            TokenUsage(input_tokens=1_000_000, cache_read_tokens=600_000, cache_write_tokens=400_000),
            1.0,
            id="no-cache-rates-means-input-rate",
        ),
        pytest.param(
            {"my-model": Price(input=1.0, output=2.0, cache_write=4.0)},
            "my-model",
            None,
            TokenUsage(input_tokens=1_000_000, cache_write_tokens=500_000),
            0.5 + 2.0,
            id="cache-write-rate",
        ),
        pytest.param(
            {"my-model": MY_PRICE, "acme:my-model": Price(input=10.0, output=20.0)},
            "my-model",
            "acme",
            TokenUsage(input_tokens=1_000_000),
            10.0,
            id="provider-key-wins",
        ),
        pytest.param(
            {"acme:my-model": Price(input=10.0, output=20.0)},
            "my-model",
            "other",
            TokenUsage(input_tokens=1_000_000),
            None,
            id="provider-key-other-provider",
        ),
        pytest.param(
            {"gpt-4o-mini": Price(input=100.0, output=100.0)},
            "gpt-4o-mini",
            "openai",
            TokenUsage(input_tokens=1_000_000),
            100.0,
            id="override-beats-genai-prices",
        ),
        pytest.param(
            {"GPT-4O-MINI": Price(input=100.0, output=100.0)},
            "gpt-4o-mini",
            "openai",
            TokenUsage(input_tokens=1_000_000),
            0.15,
            id="override-keys-are-exact",
        ),
    ],
)
def test_overrides(
    overrides: dict[str, Price], model: str, provider: str | None, usage: TokenUsage, expected: float | None
) -> None:
    got = PriceBook(overrides=overrides).cost(model=model, provider=provider, usage=usage)
    assert got == (None if expected is None else pytest.approx(expected))


def test_genai_prices_can_be_turned_off() -> None:
    book = PriceBook(overrides={"my-model": MY_PRICE}, use_genai_prices=False)
    assert book.cost(model="gpt-4o-mini", provider="openai", usage=PLAIN) is None
    assert book.cost(model="my-model", provider=None, usage=PLAIN) == pytest.approx(
        (1000 * 1.0 + 500 * 2.0) / 1e6
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"input": -1.0, "output": 1.0}, id="negative"),
        pytest.param({"input": float("nan"), "output": 1.0}, id="nan"),
        pytest.param({"input": 1.0, "output": float("inf")}, id="inf"),
        pytest.param({"input": 1.0, "output": 1.0, "cache_read": -0.1}, id="negative-cache-read"),
    ],
)
def test_price_rejects_impossible_values(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Price(**kwargs)


def test_price_is_frozen_and_keyword_only() -> None:
    price = Price(input=1.0, output=2.0)
    with pytest.raises(AttributeError):
        price.input = 3.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        Price(1.0, 2.0)  # type: ignore[call-arg]


# -- cache, threads, no network ----------------------------------------------------------------------
def test_bounded_cache_still_prices_evicted_models() -> None:
    book = PriceBook(max_cached_models=2)
    models = ["gpt-4o-mini", "gpt-4o", "o3-mini", "gpt-4.1"]
    for _ in range(3):
        for model in models:
            got = book.cost(model=model, provider="openai", usage=CACHED)
            assert got == pytest.approx(genai_cost(model, "openai", CACHED), rel=1e-9)


def test_concurrent_calls_agree() -> None:
    book = PriceBook()
    cases = [(m, u) for m in ("gpt-4o-mini", "gpt-4o", "o3-mini", "gemini-2.5-pro") for u in (PLAIN, CACHED)]
    expected = {(m, u): genai_cost(m, None, u) for m, u in cases}
    errors: list[str] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(50):
            for model, usage in cases:
                got = book.cost(model=model, provider=None, usage=usage)
                if got != pytest.approx(expected[model, usage], rel=1e-9):
                    errors.append(f"{model}: {got}")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_never_starts_the_genai_prices_updater() -> None:
    PriceBook().cost(model="gpt-4o", provider="openai", usage=PLAIN)
    updater: Any = genai_update_prices._shared_updater  # the only code in genai-prices that fetches
    assert updater.thread is None
    assert updater.ref_count == 0


def test_every_model_in_the_bundled_table_agrees_with_calc_price() -> None:
    """The fast path (flat, tiered, date- and time-conditional prices) matches genai-prices everywhere."""
    book = PriceBook(max_cached_models=10_000)
    usage = TokenUsage(
        input_tokens=300_000, output_tokens=5_000, cache_read_tokens=100_000, cache_write_tokens=20_000,
        reasoning_tokens=1_000,
    )  # fmt: skip
    checked = 0
    for provider in data_snapshot.get_snapshot().providers:
        for model in provider.models:
            try:
                expected: float | None = genai_cost(model.id, provider.id, usage)
            except LookupError:
                continue  # the id resolves to another provider's model first
            got = book.cost(model=model.id, provider=provider.id, usage=usage)
            if got is None:  # billed by audio time, pages ...: genai-prices says 0 for tokens
                assert expected == 0.0, (provider.id, model.id)
            else:
                assert got == pytest.approx(expected, rel=1e-9, abs=1e-15), (provider.id, model.id)
            checked += 1
    assert checked > 1_000
