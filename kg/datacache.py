"""The user's cache folder, and a cache there of data derived from a file: the MeSH index's records and name
tables take ~0.4 s to derive from the index file at every start and ~0.1 s to read back with ``marshal``.

An entry is named by a digest of the source file's bytes, the entry's format, kg's version and the Python version
(marshal's format is Python's own), so a changed index, another release or another Python never reads a stale
entry; its header repeats that name, and what it holds must be of the shape its user expects. Anything wrong with an
entry (missing, cut short, corrupt, unreadable folder) means deriving again; a cache never makes an error.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from kg import __version__
from kg.files import written_whole
from kg.gcpolicy import gc_paused

CACHE_DIR_ENV = "KG_CACHE_DIR"
CACHE_APP_NAME = "trialkg"
KEEP = 4  # entries of one kind kept (the shipped index and a user's own, across a few releases of either)
_MAGIC = b"trialkg-marshal-2\n"
_TMP_PREFIX = ".tmp-"
T = TypeVar("T")


def default_cache_dir() -> Path:
    """``$KG_CACHE_DIR`` if set, else the user cache directory (``~/.cache/trialkg`` on Linux)."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(CACHE_APP_NAME))


def entry_path(kind: str, source: bytes, version: str) -> Path:
    """Where the entry of ``kind`` derived from ``source`` (a file's bytes) by format ``version`` lives."""
    return _path(kind, _key(kind, source, version))


def _path(kind: str, key: str) -> Path:
    return default_cache_dir() / "derived" / f"{kind}-{key}.marshal"


def _key(kind: str, source: bytes, version: str) -> str:
    key = hashlib.blake2b(digest_size=12)
    for part in (kind, version, __version__, sys.version, str(marshal.version)):
        key.update(part.encode() + b"\0")
    key.update(source)
    return key.hexdigest()


def derived(kind: str, source: bytes, version: str, make: Callable[[], Any], use: Callable[[Any], T]) -> T:
    """``use(make())`` (``make``'s value of built-in types only), made from the cache's entry for ``source`` when
    it has one that ``use`` takes (else made, and written there for next time)."""
    try:
        key = _key(kind, source, version)
        path = _path(kind, key)
    except Exception:  # noqa: BLE001 - no cache folder to be had (no home, say): no cache, no error
        path = None
    if path is None:
        return use(make())
    value = _read(path, key)
    if value is not None:
        try:
            found = use(value)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):  # another shape: made again
            pass
        else:
            try:
                _prune(path, entries=False)  # a killed writer's temporary file goes even if nothing is written again
            except OSError:
                pass
            return found
    value = make()
    _write(path, key, value)
    return use(value)


def _header(key: str, payload: bytes) -> bytes:
    """The magic, the entry's own key (an entry under another name is not taken), the payload's length and CRC."""
    return _MAGIC + key.encode() + len(payload).to_bytes(8, "little") + zlib.crc32(payload).to_bytes(4, "little")


def _read(path: Path, key: str) -> Any:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(_header(key, b""))
    payload = memoryview(data)[head:]
    if data[:head] != _header(key, payload):  # cut short, damaged or another entry: marshal must not see it
        return None
    try:
        with gc_paused():  # ~500,000 objects that all live on
            return marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None


def _write(path: Path, key: str, value: Any) -> None:
    try:
        payload = marshal.dumps(value)
        path.parent.mkdir(parents=True, exist_ok=True)
        with written_whole(path, _TMP_PREFIX) as out:
            out.write(_header(key, payload))
            out.write(payload)
        _prune(path)
    except (OSError, ValueError):  # no room, no permission, or a value marshal cannot write: no cache, no error
        pass


def _prune(newest: Path, entries: bool = True) -> None:
    """Remove temporary files a writer that was killed left behind (an hour old: none is still being written) and,
    with ``entries``, all but the KEEP most recently written entries of the newest's kind. Files another process
    removes meanwhile are passed over."""
    kind = newest.name.rsplit("-", 1)[0]
    entry = re.compile(re.escape(kind) + r"-[0-9a-f]{24}\.marshal")
    found, stale = [], time.time() - 3600
    for path in newest.parent.iterdir():
        try:
            if entries and entry.fullmatch(path.name):
                found.append((path.stat().st_mtime_ns, path))
            elif path.name.startswith(_TMP_PREFIX) and path.stat().st_mtime < stale:
                path.unlink(missing_ok=True)
        except FileNotFoundError:
            continue
    for _, old in sorted(found, reverse=True)[KEEP:]:
        old.unlink(missing_ok=True)
