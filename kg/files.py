"""Files written whole: made as a temporary file beside the target, then renamed over it, so a reader never
sees half a file. ``publish`` gives the finished file the mode any new file gets (the umask's), not the
owner-only mode of ``tempfile.mkstemp``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (another thread may be making files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def publish(tmp: str | Path, target: str | Path) -> None:
    """Rename the finished temporary file ``tmp`` over ``target``, readable as any new file would be."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, target)


@contextmanager
def written_whole(target: str | Path, prefix: str, suffix: str = "") -> Iterator[BinaryIO]:
    """A temporary file beside ``target`` (named ``prefix``...``suffix``) to write in the block: published over
    ``target`` when the block ends, removed if it fails."""
    fd, tmp = tempfile.mkstemp(dir=Path(target).parent, prefix=prefix, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        publish(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
