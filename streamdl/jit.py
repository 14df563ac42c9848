"""Numba's compile, made visible: a notice on stderr while a cold cache compiles.

Compiled kernels are cached on disk (``cache=True``) and load in a fraction of a second; the first
run on a machine compiles them, which takes seconds. ``streamdl warmup`` (run by ``./install.sh``)
does that ahead.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager

COLD_AFTER_S = 1.0  # loading from the cache takes well under this; compiling takes seconds
_told = threading.Event()


@contextmanager
def compile_notice():
    """Within this block, work that outlasts ``COLD_AFTER_S`` (a compile, Numba's cache being cold)
    says once per process on stderr what is happening and how long it takes."""
    timer = threading.Timer(COLD_AFTER_S, _tell)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _tell() -> None:
    if not _told.is_set():
        _told.set()
        print("streamdl: compiling the Numba kernels for this machine, once (10-30 s); 'streamdl warmup' does it ahead",
              file=sys.stderr, flush=True)  # fmt: skip
