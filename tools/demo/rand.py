"""A seeded random source that is cheap enough for a million leads.

`random.Random.choice`, `randrange` and `choices` cost about a microsecond each (rejection
sampling, cumulative weights rebuilt per call), and a person's story makes ~100 draws. Picking by
`int(random() * n)` has a bias below 2**-30 for the ranges used here, which demo data can afford.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


class DemoRandom(random.Random):
    """`random.Random(seed)` (same Mersenne Twister stream) with float-based picks."""

    def choice(self, seq: Sequence[T]) -> T:  # type: ignore[override]
        return seq[int(self.random() * len(seq))]

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        if stop is None:
            start, stop = 0, start
        return start + step * int(self.random() * ((stop - start + step - 1) // step))

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))


class Weighted(Generic[T]):
    """A weighted table with its cumulative weights computed once."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        if len(items) != len(weights) or not items:
            raise ValueError("items and weights must be non-empty and of equal length")
        self.items = tuple(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> T:
        return self.items[bisect_right(self.cum, rng.random() * self.total)]
