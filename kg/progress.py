"""A progress bar on stderr for long streaming jobs (build, validate), only when someone is watching."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def with_progress(items: Iterable[T], enabled: bool, desc: str = "records") -> Iterator[T]:
    """``items``, counted on stderr (done, rate) when ``enabled``; unchanged otherwise."""
    if not enabled:
        return iter(items)
    from tqdm import tqdm  # only when a person is watching

    return iter(tqdm(items, desc=desc, unit=" rec", file=sys.stderr, mininterval=0.5))
