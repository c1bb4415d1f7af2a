"""Named points where a process can be made to stop, so tests can kill it exactly there.

``SQLML_PAUSE_AT=<point>`` in a process's environment makes it sleep when it reaches that point
(and write ``<point>`` to the file named by ``SQLML_PAUSE_FILE``, so the test knows): for good,
or, with ``SQLML_PAUSE_UNTIL=<file>``, until that file is removed (to line two processes up at
one moment). Used only by the crash-safety and race tests; unset, it costs one dictionary
lookup.
"""

from __future__ import annotations

import os
import time


def pause_at(point: str) -> None:
    if os.environ.get("SQLML_PAUSE_AT") != point:
        return
    marker = os.environ.get("SQLML_PAUSE_FILE")
    if marker:
        with open(marker, "a", encoding="utf-8") as f:
            f.write(f"{point} {os.getpid()}\n")
    until = os.environ.get("SQLML_PAUSE_UNTIL")
    while until is None or os.path.exists(until):
        time.sleep(3600 if until is None else 0.05)
