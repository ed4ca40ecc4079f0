"""Spend: token prices (:class:`PriceBook`) and the run's ledger of spent and reserved cost and tokens
(:class:`Budget`, :func:`reconcile`, :func:`release`), which the ``budget`` rule reserves against.
"""

from __future__ import annotations

from ._cost import Price, PriceBook, TokenUsage
from ._ledger import Budget, format_usd, key_of, reconcile, release

__all__ = ["Budget", "Price", "PriceBook", "TokenUsage", "format_usd", "key_of", "reconcile", "release"]
