"""What a detector reports (:class:`Finding`) and what it is (:class:`Detector`), shared by every detector."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Finding:
    """A span of the text that carries ``tag``, as found by ``detector``; the text itself is not kept."""

    tag: str
    start: int
    end: int
    detector: str


Taken = Callable[[int, int], bool]


class Detector(Protocol):
    """Finds one kind of content in ``text``, leaving alone any span for which ``taken(start, end)`` holds.

    ``taken`` is called once for each candidate, before the candidate is checked: it is also how the scan
    counts its work, ``cost`` for each candidate (see :class:`maestro.policy.detect.Limits`).
    """

    @property
    def tag(self) -> str: ...

    @property
    def cost(self) -> int: ...

    def find(self, text: str, taken: Taken) -> Iterator[Finding]: ...
