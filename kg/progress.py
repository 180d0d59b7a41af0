"""A progress bar on stderr for long streaming jobs (build, validate), only when someone is watching."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def with_progress(items: Iterable[T], enabled: bool, desc: str = "records") -> Iterator[T]:
    """``items``, counted on stderr (done, rate) when ``enabled``; unchanged otherwise."""
    if not enabled:
        return iter(items)
    return iter(_tqdm(desc, items))


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def progress_bar(enabled: bool, desc: str = "records") -> Any:
    """A counter to ``update(n)`` as work is done, shown on stderr when ``enabled`` (a context manager)."""
    return _tqdm(desc) if enabled else _Silent()


def _tqdm(desc: str, items: Iterable[Any] | None = None) -> Any:
    from tqdm import tqdm  # only when a person is watching

    return tqdm(items, desc=desc, unit=" rec", file=sys.stderr, mininterval=0.5)
