"""Modules imported on first use, so that plain SQL from the command line starts fast.

pyarrow with numpy takes 0.15-0.2 s to import, as long as DuckDB itself; a ``SELECT 1`` from
the shell needs neither. A module that needs them writes ``from sqlml.lazy import pa`` instead
of ``import pyarrow as pa`` and uses ``pa.`` as before: the first attribute read imports the
module, and each attribute read is kept on the proxy after that (a plain attribute lookup).

Why not :class:`importlib.util.LazyLoader` (what the ``lazy_loader`` package uses): on Python
3.11 it is not safe when two threads touch the module first at once (the server's sessions and
a connection's job watchers do), and it puts a half-loaded module in ``sys.modules`` for every
other library to find. ``importlib.import_module`` takes the import system's per-module lock.
"""

from __future__ import annotations

import importlib


class LazyModule:
    """Stands for the module ``name`` until an attribute of it is read."""

    def __init__(self, name: str):
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attribute: str):
        if attribute.startswith("__") or attribute == "_lazy_name":
            # Protocol lookups (pickle's __setstate__, copy's __deepcopy__) are the proxy's,
            # and while unpickling, before __dict__ is filled, _lazy_name is not there.
            raise AttributeError(attribute)
        value = getattr(importlib.import_module(self._lazy_name), attribute)
        self.__dict__[attribute] = value  # next time a plain attribute lookup
        return value

    def __reduce__(self):
        # Spark ships a prediction function's globals to its executors by pickling them.
        return (LazyModule, (self._lazy_name,))

    def __repr__(self) -> str:
        return f"<lazily imported module {self._lazy_name!r}>"


pa = LazyModule("pyarrow")
pc = LazyModule("pyarrow.compute")
np = LazyModule("numpy")
ipc = LazyModule("pyarrow.ipc")
