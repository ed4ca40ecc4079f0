"""LLM cost from token usage.

A :class:`PriceBook` turns the token counts of one LLM call into US dollars. Prices come from user
overrides first, then from the ``genai-prices`` package's bundled table; a model neither knows costs
``None`` (no cost attribute), never a guessed number.

>>> from agentguard.spend import Price, PriceBook, TokenUsage
>>> book = PriceBook(overrides={"my-model": Price(input=1.0, output=2.0, cache_read=0.5)})
>>> book.cost(model="my-model", provider=None, usage=TokenUsage(input_tokens=1_000_000, output_tokens=10))
1.00002
>>> book.cost(model="no-such-model", provider=None, usage=TokenUsage(input_tokens=5)) is None
True

How a call is priced (the same split ``genai-prices`` makes): cached input tokens at the cache-read
rate and cache-write tokens at the cache-write rate, the rest of ``input_tokens`` at the input rate;
``reasoning_tokens`` are part of ``output_tokens`` and priced once, at the output rate unless the model
has a separate reasoning rate. A rate the model does not list falls back to the rate of the tokens it
is part of (no cache-read price means cached tokens cost the input price).

Speed: ``genai_prices.calc_price`` takes ~50-300 µs (model lookup, Decimal arithmetic, validation).
A ``PriceBook`` resolves each ``(provider, model)`` once (bounded cache, lock only on writes), checks
the resolved rates against ``calc_price`` on probe usages, and from then on computes a cost with a
few float operations. Measured on a loaded 2-core CI box (CPython 3.11), best of 7 x 50k calls: a
cached ``cost()`` ~0.6 µs for a flat price (gpt-4o-mini), ~1.4 µs for a prompt-size-tiered one
(gemini-2.5-pro), ~0.8 µs for a cached unknown model; ``calc_price`` on the same box ~300 µs.
Prices tiered by prompt size (long-context Gemini and Claude prices) are modelled exactly with the
same cliff rule as ``genai-prices``; prices that change with the time of day (DeepSeek off-peak)
and any structure the fast path does not reproduce exactly on the probes fall back to
``genai-prices`` for every call (~180 µs). Prices that change on a future date are resolved again
once that date has passed.

Network: agentguard only reads the table bundled with the installed ``genai-prices``; it never
starts ``genai_prices.UpdatePrices`` (the only code in that package that fetches prices), so no price
update is fetched at runtime. A snapshot the application installs itself is used for models resolved
after it is installed.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, NoReturn

from .._safe import report

if TYPE_CHECKING:
    from decimal import Decimal

    from genai_prices.types import ModelInfo, ModelPrice, Provider, TieredPrices

__all__ = ["Price", "PriceBook", "TokenUsage"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenUsage:
    """Token counts of one LLM call, as the OpenAI APIs report them.

    ``input_tokens`` includes ``cache_read_tokens`` (and ``cache_write_tokens``, where a provider
    reports them); ``output_tokens`` includes ``reasoning_tokens``.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Price:
    """A model's price in US dollars per million tokens, for :class:`PriceBook` overrides.

    ``cache_read`` and ``cache_write`` default to ``None``: those tokens then cost the input price.
    """

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None

    def __post_init__(self) -> None:
        for name in ("input", "output", "cache_read", "cache_write"):
            value = getattr(self, name)
            if value is None and name in ("cache_read", "cache_write"):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"Price.{name} must be a number of dollars per million tokens")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"Price.{name} must be finite and non-negative, not {value!r}")


# OpenTelemetry GenAI ``gen_ai.provider.name`` values that genai-prices' own provider matching
# does not map to the right provider.
_PROVIDER_ALIASES: Final[Mapping[str, str]] = {
    "x_ai": "x-ai",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
}
# The price keys the fast path prices; any other key of a genai-prices ``ModelPrice`` is for usage
# that ``TokenUsage`` never reports (audio, images, web searches, 1h cache writes ...) and costs 0.
_INPUT, _OUTPUT, _CACHE_READ, _CACHE_WRITE, _REASONING, _PER_KREQUEST = (
    "input_mtok",
    "output_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "output_reasoning_mtok",
    "requests_kcount",
)
_REL_TOLERANCE: Final = 1e-9
_DEFAULT_MAX_CACHED: Final = 1024


class _Rates:
    """Flat per-million-token rates of one model: the whole cost is a handful of float operations."""

    __slots__ = ("cache_read", "cache_write", "input", "output", "per_call", "reasoning")

    def __init__(
        self,
        *,
        input: float,
        output: float,
        cache_read: float | None = None,
        cache_write: float | None = None,
        reasoning: float | None = None,
        per_call: float = 0.0,
    ) -> None:
        self.input = input
        self.output = output
        self.cache_read = input if cache_read is None else cache_read
        self.cache_write = input if cache_write is None else cache_write
        self.reasoning = output if reasoning is None else reasoning
        self.per_call = per_call

    def cost(self, usage: TokenUsage) -> float | None:
        cached = usage.cache_read_tokens
        written = usage.cache_write_tokens
        reasoning = usage.reasoning_tokens
        plain_in = usage.input_tokens - cached - written
        plain_out = usage.output_tokens - reasoning
        if plain_in < 0 or plain_out < 0 or cached < 0 or written < 0 or reasoning < 0:
            _invalid(usage)
        return (
            plain_in * self.input
            + cached * self.cache_read
            + written * self.cache_write
            + plain_out * self.output
            + reasoning * self.reasoning
        ) / 1e6 + self.per_call


class _Tiered:
    """Rates that switch, for all tokens of a call, once its input tokens pass a threshold."""

    __slots__ = ("base", "tiers")

    def __init__(self, base: _Rates, tiers: list[tuple[int, _Rates]]) -> None:
        self.base = base
        self.tiers = tuple(sorted(tiers, key=lambda tier: tier[0], reverse=True))

    def cost(self, usage: TokenUsage) -> float | None:
        n = usage.input_tokens
        for start, rates in self.tiers:
            if n > start:
                return rates.cost(usage)
        return self.base.cost(usage)


class _Slow:
    """A price the fast path cannot reproduce exactly: ask genai-prices on every call."""

    __slots__ = ("model", "provider")

    def __init__(self, provider: Provider, model: ModelInfo) -> None:
        self.provider = provider
        self.model = model

    def cost(self, usage: TokenUsage) -> float | None:
        calc = self.model.calc_price(_to_genai_usage(usage), self.provider)
        return float(calc.total_price)


class _Unknown:
    __slots__ = ()

    def cost(self, usage: TokenUsage) -> float | None:
        return None


class _Expiring:
    """Rates valid until a known future price change, then resolved again."""

    __slots__ = ("book", "entry", "key", "until")

    def __init__(self, book: PriceBook, key: tuple[str | None, str], entry: _Entry, until: float) -> None:
        self.book = book
        self.key = key
        self.entry = entry
        self.until = until

    def cost(self, usage: TokenUsage) -> float | None:
        if time.time() >= self.until:
            return self.book._resolve(self.key, refresh=True).cost(usage)
        return self.entry.cost(usage)


_Entry = _Rates | _Tiered | _Slow | _Unknown | _Expiring
_UNKNOWN: Final = _Unknown()


class PriceBook:
    """Resolves a model's price once and computes call costs; unknown models cost ``None``.

    ``overrides`` maps ``"model"`` or ``"provider:model"`` (exact strings; the provider-qualified key
    wins) to a :class:`Price`; they are consulted before ``genai-prices``, which
    ``use_genai_prices=False`` turns off. ``max_cached_models`` bounds the resolved-price cache.
    """

    def __init__(
        self,
        *,
        overrides: Mapping[str, Price] | None = None,
        use_genai_prices: bool = True,
        max_cached_models: int = _DEFAULT_MAX_CACHED,
    ) -> None:
        if max_cached_models < 1:
            raise ValueError("max_cached_models must be at least 1")
        self._overrides: dict[str, _Rates] = {}
        for key, price in (overrides or {}).items():
            if not isinstance(price, Price):
                raise TypeError(
                    f"override for {key!r} must be an agentguard Price, not {type(price).__name__}"
                )
            self._overrides[key] = _Rates(
                input=price.input,
                output=price.output,
                cache_read=price.cache_read,
                cache_write=price.cache_write,
            )
        self._use_genai_prices = use_genai_prices
        self._max_cached = max_cached_models
        self._cache: dict[tuple[str | None, str], _Entry] = {}
        self._lock = threading.Lock()

    def cost(self, *, model: str, provider: str | None, usage: TokenUsage) -> float | None:
        """US dollars for one call of ``model`` (at ``provider``, if known), or ``None`` if unpriced."""
        try:
            entry = self._cache.get((provider, model))
            if entry is None:
                entry = self._resolve((provider, model))
            return entry.cost(usage)
        except Exception as exc:
            report("cost", exc)
            return None

    # -- resolution (once per model) ---------------------------------------------------------------
    def _resolve(self, key: tuple[str | None, str], *, refresh: bool = False) -> _Entry:
        try:
            entry = self._lookup(key)
        except Exception as exc:
            # Cached as unknown, so a model that breaks the lookup costs one report, not one per call.
            report("cost", exc)
            entry = _UNKNOWN
        with self._lock:
            if not refresh and (existing := self._cache.get(key)) is not None:
                return existing  # another thread resolved it first
            while len(self._cache) >= self._max_cached:
                del self._cache[next(iter(self._cache))]
            self._cache[key] = entry
        return entry

    def _lookup(self, key: tuple[str | None, str]) -> _Entry:
        provider, model = key
        if provider is not None and (rates := self._overrides.get(f"{provider}:{model}")) is not None:
            return rates
        if (rates := self._overrides.get(model)) is not None:
            return rates
        if not self._use_genai_prices or not model:
            return _UNKNOWN
        return _from_genai_prices(self, key)


def _from_genai_prices(book: PriceBook, key: tuple[str | None, str]) -> _Entry:
    from genai_prices import data_snapshot, types

    provider_id, model_ref = key
    if provider_id is not None:
        provider_id = _PROVIDER_ALIASES.get(provider_id.lower(), provider_id)
    try:
        provider, model = data_snapshot.get_snapshot().find_provider_model(model_ref, None, provider_id, None)
    except LookupError:
        return _UNKNOWN

    now = datetime.now(tz=UTC)
    until = math.inf
    if not isinstance(model.prices, types.ModelPrice):
        for conditional in model.prices:
            constraint = conditional.constraint
            if isinstance(constraint, types.TimeOfDateConstraint):
                return _Slow(provider, model)  # off-peak prices change within the day
            if isinstance(constraint, types.StartDateConstraint) and not constraint.active(now):
                start = datetime.combine(constraint.start_date, datetime.min.time(), tzinfo=UTC)
                until = min(until, start.timestamp())
    entry = _fast_entry(model.get_prices(now))
    if entry is None:
        return _UNKNOWN
    if not _agrees_with_genai_prices(entry, provider, model, now):
        return _Slow(provider, model)
    if until != math.inf:
        return _Expiring(book, key, entry, until)
    return entry


def _fast_entry(prices: ModelPrice) -> _Rates | _Tiered | None:
    """Flat or tiered float rates for ``prices``; ``None`` when it is billed by something else."""
    from genai_prices.types import TieredPrices

    values = {k: v for k, v in vars(prices).items() if v is not None and not k.startswith("_")}
    if not values:
        return _Rates(input=0.0, output=0.0)  # listed without any price: free (``:free`` variants ...)
    if _INPUT not in values and _OUTPUT not in values:
        return None  # billed by audio hours, pages, characters ...: tokens say nothing about the cost
    used = [values.get(k) for k in (_INPUT, _OUTPUT, _CACHE_READ, _CACHE_WRITE, _REASONING, _PER_KREQUEST)]
    starts = sorted({tier.start for v in used if isinstance(v, TieredPrices) for tier in v.tiers})

    def at(value: Decimal | TieredPrices | None, input_tokens: int) -> float | None:
        # The same cliff rule as genai_prices.types.calc_unit_price: the highest tier whose start the
        # call's input tokens exceed prices all of the call's tokens of that kind.
        if value is None:
            return None
        if isinstance(value, TieredPrices):
            price = value.base
            for tier in reversed(value.tiers):
                if input_tokens > tier.start:
                    price = tier.price
                    break
            return float(price)
        return float(value)

    def rates(input_tokens: int) -> _Rates:
        inp, out, read, write, reasoning, per_k = (at(v, input_tokens) for v in used)
        return _Rates(
            input=inp or 0.0,
            output=out or 0.0,
            cache_read=read,
            cache_write=write,
            reasoning=reasoning,
            per_call=(per_k or 0.0) / 1000,
        )

    base = rates(0)
    if not starts:
        return base
    return _Tiered(base, [(start, rates(start + 1)) for start in starts])


def _agrees_with_genai_prices(
    entry: _Rates | _Tiered, provider: Provider, model: ModelInfo, now: datetime
) -> bool:
    """Whether the fast path prices probe usages (one per tier) exactly as genai-prices does."""
    starts = [start for start, _ in entry.tiers] if isinstance(entry, _Tiered) else []
    probes = [min([1000, *starts])] + [start + 1 for start in starts]
    for n in probes:
        output = n // 2 + 7
        usage = TokenUsage(
            input_tokens=n,
            output_tokens=output,
            cache_read_tokens=n // 4,
            cache_write_tokens=n // 8,
            reasoning_tokens=output // 3,
        )
        expected = float(
            model.calc_price(_to_genai_usage(usage), provider, genai_request_timestamp=now).total_price
        )
        got = entry.cost(usage)
        if got is None or not math.isclose(got, expected, rel_tol=_REL_TOLERANCE, abs_tol=1e-15):
            return False
    return True


def _to_genai_usage(usage: TokenUsage) -> object:
    from genai_prices import Usage

    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        output_reasoning_tokens=usage.reasoning_tokens,
    )


def _invalid(usage: TokenUsage) -> NoReturn:
    raise ValueError(
        "inconsistent token usage (input_tokens must include cache_read_tokens and cache_write_tokens, "
        f"output_tokens must include reasoning_tokens, no count may be negative): {usage}"
    )
