"""Garbage-collector settings for long streaming jobs (build, validate) and bulk loads (the MeSH index).

A record allocates a few thousand short-lived containers that reference counting frees: the cyclic
collector's young-generation passes every 700 allocations find nothing to collect, and its full passes
rescan every long-lived object (the MeSH index, compiled shapes, caches). A streaming job therefore runs
young passes every 50,000 allocations and freezes what it keeps, which saves 5-10% of its time.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_GC_THRESHOLD = 50_000
_depth = 0  # streaming_gc blocks entered and not yet left (a build validates each record inside its own)
_thaw_after = True  # False once the process is known to end with its job: see process_ends_with_job


def rare_young_passes() -> None:
    """Young-generation passes every YOUNG_GC_THRESHOLD allocations, from now on (a worker process's life)."""
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])


def process_ends_with_job() -> None:
    """This process ends when its job does (the ``kg`` command): what a streaming block froze stays frozen, so
    no full collection walks everything it kept (the MeSH index, caches) once more just before the exit
    (~0.13 s after a 10,000-record build). A library caller's process goes on, and gets its objects thawed."""
    global _thaw_after
    _thaw_after = False


@contextmanager
def streaming_gc() -> Iterator[None]:
    """Within the block: rare young-generation passes, and what exists on entry frozen. Restored after (a
    caller's own frozen objects stay frozen). A block inside another changes nothing: gc.get_freeze_count
    walks every frozen object, so asking it once per record made a validating build quadratic."""
    global _depth
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    thaw = gc.get_freeze_count() == 0
    thresholds = gc.get_threshold()
    rare_young_passes()
    gc.freeze()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        gc.set_threshold(*thresholds)
        if thaw and _thaw_after:
            gc.unfreeze()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (reference counting still frees): for loading many
    containers that all live on, where a collection would find nothing. In a process that ends with its job
    they are then frozen, where the next young and middle passes would each walk them all once more."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if not _thaw_after:
            gc.freeze()
        if enabled:
            gc.enable()
