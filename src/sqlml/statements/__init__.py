"""Handlers of the ML statements, one module per statement; ``session`` dispatches to them."""
