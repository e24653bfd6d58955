"""Garbage collection paused for work that allocates many short-lived objects at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Reading a large spec or running a program allocates hundreds of thousands of objects
    (YAML nodes, Outputs, tasks); with the default thresholds the collector rescans all of
    them over and over, which grew faster than the platform: a 5000-service spec took 2.3 s
    to read, 0.6 s without those rescans. A program run also leaves much cyclic garbage
    (coroutines, futures): collecting every 100,000 objects, each collection cost more as the
    platform grew (55 ms at 300 services, 120 ms at 1000: 3 s of a 13 s run); every million,
    the run is linear (11.5 ms per service at 300 and at 1000) for ~100 MB more at peak
    (bench/README.md)."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(1_000_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
