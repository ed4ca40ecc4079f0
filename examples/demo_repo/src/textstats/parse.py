"""Parsing ``key=value`` lists."""


def parse_pairs(text: str) -> dict[str, int]:
    """Parse ``"a=1, b=2"`` into ``{"a": 1, "b": 2}``."""
    out: dict[str, int] = {}
    for part in text.split(","):
        key, value = part.split("=")
        out[key] = int(value)
    return out
