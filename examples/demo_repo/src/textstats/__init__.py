"""textstats: tiny text utilities (the demo agent's workspace)."""

from .parse import parse_pairs

__all__ = ["parse_pairs"]
