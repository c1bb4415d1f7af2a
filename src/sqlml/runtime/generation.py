"""A number the front door advances before each statement, for caches that hold for one
statement only: an external model asks identical prompts once per statement (runtime/llm.py).

It is per process: a statement started by another session of the same process advances it too,
which only costs that cache its entries (an identical prompt is asked again), never a wrong
answer.
"""

from __future__ import annotations

import itertools
import threading

_counter = itertools.count(1)
_lock = threading.Lock()
current = 0


def advance() -> None:
    global current
    with _lock:
        current = next(_counter)
