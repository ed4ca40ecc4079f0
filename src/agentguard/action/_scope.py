"""The scope an agent declares: where it may read and write and which hosts it may reach.

The guard records the declared scope on the run span; the policy's scope rules enforce it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """Globs relative to ``root`` (``"src/**"``) and host names (``"pypi.org"``)."""

    root: str = "."
    read: tuple[str, ...] = ("**",)
    write: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        root: str = ".",
        read: tuple[str, ...] | list[str] = ("**",),
        write: tuple[str, ...] | list[str] = (),
        hosts: tuple[str, ...] | list[str] = (),
    ) -> None:
        object.__setattr__(self, "root", root)
        object.__setattr__(self, "read", tuple(read))
        object.__setattr__(self, "write", tuple(write))
        object.__setattr__(self, "hosts", tuple(hosts))
