"""The time budget, as one object passed down from CREATE MODEL to every fit."""

from __future__ import annotations

import time
from collections.abc import Callable


class Deadline:
    """A point in time on a monotonic clock. The clock is injectable so tests need no sleeping."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.start = clock()
        self.seconds = float(seconds)

    def elapsed(self) -> float:
        return self.clock() - self.start

    def remaining(self) -> float:
        return self.seconds - self.elapsed()

    def expired(self) -> bool:
        return self.remaining() <= 0
