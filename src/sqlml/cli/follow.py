"""Following a training job from the CLI: one live progress line until READY or FAILED.

On a terminal the line is redrawn in place; elsewhere (pipes, logs) a line is printed when the
state changes. Ctrl-C detaches: the model goes on training and SHOW MODEL follows it.
"""

from __future__ import annotations

import sys
import time

from sqlml.statements.show_model import progress_text

POLL_SECONDS = 0.25


def follow(conn, name: str, stream=None) -> dict | None:
    """Show ``name``'s progress until it is READY (return its manifest) or FAILED (raise its
    error); None when the user detached with Ctrl-C."""
    stream = stream or sys.stderr
    tty = stream.isatty()
    last = None
    try:
        while True:
            status = conn.model_status(name)
            state = status["state"]
            if state in ("READY", "FAILED"):
                break
            line = progress_text(state, status)
            if tty:
                stream.write(f"\r\x1b[K{name}: {line}")
                stream.flush()
            elif state != last:
                print(f"{name}: {state}", file=stream, flush=True)
            last = state
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        print(
            f"\nDetached from {name}: it goes on training. SHOW MODEL {name} shows its progress.",
            file=stream,
            flush=True,
        )
        return None
    if tty and last is not None:
        stream.write("\r\x1b[K")
        stream.flush()
    return conn.wait_model(name)  # READY: the manifest; FAILED: raises the training error
