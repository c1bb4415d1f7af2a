"""Named points where a process can be made to stop, so tests can kill it exactly there.

``SQLML_PAUSE_AT=<point>`` in a process's environment makes it sleep when it reaches that point
(and write ``<point>`` to the file named by ``SQLML_PAUSE_FILE``, so the test knows). Used only
by the crash-safety tests; unset, it costs one dictionary lookup.
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
    while True:
        time.sleep(3600)
