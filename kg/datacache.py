"""The user's cache folder, and a cache there of data derived from a file: the MeSH index's records and name
tables take ~0.4 s to derive from the index file at every start and ~0.1 s to read back with ``marshal``.

An entry is named by a digest of the source file's bytes, the entry's format and the Python version (marshal's
format is Python's own), so a changed index or another Python never reads a stale entry. Anything wrong with an
entry (missing, cut short, corrupt, unreadable folder) means deriving again; a cache never makes an error.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kg.files import publish
from kg.gcpolicy import gc_paused

CACHE_DIR_ENV = "KG_CACHE_DIR"
CACHE_APP_NAME = "trialkg"
KEEP = 4  # entries of one kind kept (the shipped index and a user's own, across a few releases of either)
_MAGIC = b"trialkg-marshal-1\n"


def default_cache_dir() -> Path:
    """``$KG_CACHE_DIR`` if set, else the user cache directory (``~/.cache/trialkg`` on Linux)."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(CACHE_APP_NAME))


def entry_path(kind: str, source: bytes, version: str) -> Path:
    """Where the entry of ``kind`` derived from ``source`` (a file's bytes) by format ``version`` lives."""
    key = hashlib.blake2b(digest_size=12)
    for part in (kind, version, sys.version, str(marshal.version)):
        key.update(part.encode() + b"\0")
    key.update(source)
    return default_cache_dir() / "derived" / f"{kind}-{key.hexdigest()}.marshal"


def derived(kind: str, source: bytes, version: str, make: Callable[[], Any]) -> Any:
    """``make()``'s value (built-in types only), read from the cache when an entry for ``source`` exists, else
    made and written there for next time."""
    path = entry_path(kind, source, version)
    value = _read(path)
    if value is not None:
        return value
    value = make()
    _write(path, value)
    return value


def _read(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + 12
    if len(data) < head or not data.startswith(_MAGIC):
        return None
    length = int.from_bytes(data[len(_MAGIC):len(_MAGIC) + 8], "little")
    crc = int.from_bytes(data[len(_MAGIC) + 8:head], "little")
    payload = memoryview(data)[head:]
    if len(payload) != length or zlib.crc32(payload) != crc:  # cut short or damaged: marshal must not see it
        return None
    try:
        with gc_paused():  # ~500,000 objects that all live on
            return marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None


def _write(path: Path, value: Any) -> None:
    try:
        payload = marshal.dumps(value)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(_MAGIC + len(payload).to_bytes(8, "little") + zlib.crc32(payload).to_bytes(4, "little"))
                out.write(payload)
            publish(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(path)
    except (OSError, ValueError):  # no room, no permission, or a value marshal cannot write: no cache, no error
        pass


def _prune(newest: Path) -> None:
    """Keep the KEEP most recently written entries of the newest's kind."""
    kind = newest.name.rsplit("-", 1)[0]
    entries = sorted(newest.parent.glob(f"{kind}-*.marshal"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)
