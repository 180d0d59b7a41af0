"""The cache of derived data (kg.datacache) and the MeSH index read through it: a hit gives what deriving gives,
a changed source or a damaged entry is derived again, and no cache problem is ever an error."""

from __future__ import annotations

import gzip
import importlib.resources
import io
from pathlib import Path

import pytest

from kg import datacache, mesh


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(datacache.CACHE_DIR_ENV, str(folder))
    return folder


class Maker:
    """make() for derived(): counts its calls."""

    def __init__(self, value: object) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> object:
        self.calls += 1
        return self.value


def _same(value: object) -> object:
    return value


VALUE = ({"heart attack": "D009203", "ambiguous": "?"}, [("D", "D009203", "Myocardial Infarction", ("MI",), ())])


def test_second_read_comes_from_the_cache(cache_dir: Path) -> None:
    make = Maker(VALUE)
    assert datacache.derived("kind", b"source", "1", make, _same) == VALUE
    assert datacache.derived("kind", b"source", "1", make, _same) == VALUE
    assert make.calls == 1
    assert len(list((cache_dir / "derived").glob("kind-*.marshal"))) == 1


@pytest.mark.parametrize("change", [{"source": b"source, edited"}, {"version": "2"}, {"kind": "other"}])
def test_another_source_format_or_kind_is_derived_again(cache_dir: Path, change: dict) -> None:
    datacache.derived("kind", b"source", "1", Maker(VALUE), _same)
    args = {"kind": "kind", "source": b"source", "version": "1"} | change
    make = Maker(("new",))
    assert datacache.derived(args["kind"], args["source"], args["version"], make, _same) == ("new",)
    assert make.calls == 1


def _damage_cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _damage_flip(data: bytes) -> bytes:
    return data[:-3] + bytes([data[-3] ^ 0x40]) + data[-2:]


def _damage_magic(data: bytes) -> bytes:
    return b"X" + data[1:]


def _damage_length(data: bytes) -> bytes:
    return data + b"\0"


@pytest.mark.parametrize("damage", [_damage_cut, _damage_flip, _damage_magic, _damage_length, lambda d: b"",
                                    lambda d: b"not a cache entry at all"])
def test_a_damaged_entry_is_derived_again_and_replaced(cache_dir: Path, damage) -> None:
    datacache.derived("kind", b"source", "1", Maker(VALUE), _same)
    (entry,) = (cache_dir / "derived").glob("kind-*.marshal")
    entry.write_bytes(damage(entry.read_bytes()))
    make = Maker(VALUE)
    assert datacache.derived("kind", b"source", "1", make, _same) == VALUE
    assert make.calls == 1
    again = Maker(VALUE)
    assert datacache.derived("kind", b"source", "1", again, _same) == VALUE
    assert again.calls == 0  # the damaged entry was rewritten whole


def test_an_unusable_cache_folder_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(datacache.CACHE_DIR_ENV, str(blocker))
    make = Maker(VALUE)
    assert datacache.derived("kind", b"source", "1", make, _same) == VALUE
    assert datacache.derived("kind", b"source", "1", make, _same) == VALUE
    assert make.calls == 2


def test_a_value_marshal_cannot_write_is_returned_uncached(cache_dir: Path) -> None:
    value = {"x": object()}
    assert datacache.derived("kind", b"source", "1", Maker(value), _same) is value
    assert not list((cache_dir / "derived").glob("*"))  # no entry, no temporary file left


def test_only_the_newest_entries_of_a_kind_are_kept(cache_dir: Path) -> None:
    for n in range(datacache.KEEP + 3):
        datacache.derived("kind", f"source {n}".encode(), "1", Maker(n), _same)
    datacache.derived("other", b"source", "1", Maker("other"), _same)
    folder = cache_dir / "derived"
    assert len(list(folder.glob("kind-*.marshal"))) == datacache.KEEP
    assert len(list(folder.glob("other-*.marshal"))) == 1
    newest = datacache.entry_path("kind", f"source {datacache.KEEP + 2}".encode(), "1")
    assert newest.exists()


def _parsed_shipped_index() -> mesh.MeshIndex:
    """The shipped index read the way it was before the cache: parsed, name tables derived."""
    data = (importlib.resources.files("kg") / "data" / "mesh" / mesh.INDEX_FILENAME).read_bytes()
    return mesh.read_index(io.StringIO(gzip.decompress(data).decode("utf-8")))


def test_the_mesh_index_read_from_the_cache_is_the_parsed_index(cache_dir: Path) -> None:
    parsed = _parsed_shipped_index()
    first = mesh.load_index()  # derived, and written to the cache
    assert list((cache_dir / "derived").glob("mesh-index-*.marshal"))
    second = mesh.load_index()  # read back
    for index in (first, second):
        assert (index.version, index.mesh_year, index.source) == (parsed.version, parsed.mesh_year, parsed.source)
        assert index._records == parsed._records
        assert all(isinstance(r, mesh._Record) for r in index._records.values())
        assert index._names == parsed._names
        assert [list(t) for t in index._names] == [list(t) for t in parsed._names]  # same order of keys
    assert second.resolve("Heart Attack") == parsed.resolve("Heart Attack") is not None
    assert second.ancestors("D009203") == parsed.ancestors("D009203")


def test_an_edited_index_file_is_not_answered_from_the_cache(cache_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "index.tsv"
    head = f"{mesh.FORMAT_NAME}\t{mesh.FORMAT_VERSION}\n#mesh_year\t2024\n"
    path.write_text(head + "D\tD000001\tCalcimycin\tA-23187\tD03.633\n", encoding="utf-8")
    assert mesh.load_index(path).resolve("A-23187") == "D000001"
    path.write_text(head + "D\tD000001\tCalcimycin\tA 23187\tD03.633\n", encoding="utf-8")
    edited = mesh.load_index(path)
    assert edited.resolve("A-23187") is None
    assert edited.resolve("a 23187") == "D000001"


def test_a_file_that_is_not_an_index_is_still_refused(cache_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "not-an-index.tsv"
    path.write_text("hello\tworld\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not-an-index.tsv"):
        mesh.load_index(path)
    assert not list((cache_dir / "derived").glob("*.marshal"))


def test_an_entry_under_another_name_is_not_taken(cache_dir: Path) -> None:
    datacache.derived("kind", b"source", "1", Maker(VALUE), _same)
    (entry,) = (cache_dir / "derived").glob("kind-*.marshal")
    other = datacache.entry_path("kind", b"another source", "1")
    other.write_bytes(entry.read_bytes())  # a valid entry, of another key
    make = Maker(("right",))
    assert datacache.derived("kind", b"another source", "1", make, _same) == ("right",)
    assert make.calls == 1


def test_an_entry_its_user_does_not_take_is_made_again(cache_dir: Path) -> None:
    datacache.derived("kind", b"source", "1", Maker(("old", "shape")), _same)

    def use(value: object) -> str:
        first, second, third = value  # type: ignore[misc]  # three parts now: the old entry has two
        return f"{first}{second}{third}"

    make = Maker(("a", "b", "c"))
    assert datacache.derived("kind", b"source", "1", make, use) == "abc"
    assert datacache.derived("kind", b"source", "1", make, use) == "abc"
    assert make.calls == 1  # made once, then read: the entry was replaced


def test_no_cache_folder_to_be_had_is_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_home() -> Path:
        raise RuntimeError("could not determine the home directory")

    monkeypatch.setattr(datacache, "default_cache_dir", no_home)
    make = Maker(VALUE)
    assert datacache.derived("kind", b"source", "1", make, _same) == VALUE
    assert make.calls == 1


def test_temporary_files_of_a_killed_writer_are_removed(cache_dir: Path) -> None:
    import os
    import time

    folder = cache_dir / "derived"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".tmp-killed", folder / ".tmp-being-written"
    stale.write_bytes(b"x" * 1000)
    fresh.write_bytes(b"x")
    an_hour_ago = time.time() - 3700
    os.utime(stale, (an_hour_ago, an_hour_ago))
    datacache.derived("kind", b"source", "1", Maker(VALUE), _same)
    assert not stale.exists() and fresh.exists()
    stale.write_bytes(b"x" * 1000)  # and when the entry is only read
    os.utime(stale, (an_hour_ago, an_hour_ago))
    make = Maker(VALUE)
    datacache.derived("kind", b"source", "1", make, _same)
    assert make.calls == 0 and not stale.exists() and fresh.exists()


def test_pruning_keeps_to_its_own_kind(cache_dir: Path) -> None:
    datacache.derived("mesh-index", b"source", "1", Maker(VALUE), _same)
    for n in range(datacache.KEEP + 2):
        datacache.derived("mesh", f"source {n}".encode(), "1", Maker(n), _same)
    assert len(list((cache_dir / "derived").glob("mesh-index-*.marshal"))) == 1


@pytest.mark.parametrize("ends", [b"\r\n", b"\r"], ids=["crlf", "cr"])
def test_an_index_file_with_other_line_ends_loads_as_before(cache_dir: Path, tmp_path: Path, ends: bytes) -> None:
    head = f"{mesh.FORMAT_NAME}\t{mesh.FORMAT_VERSION}\n#mesh_year\t2024\n"
    text = (head + "D\tD000001\tCalcimycin\tA-23187\tD03.633\n").encode()
    lf, other = tmp_path / "lf.tsv", tmp_path / "other.tsv"
    lf.write_bytes(text)
    other.write_bytes(text.replace(b"\n", ends))
    with open(other, encoding="utf-8") as fh:  # what reading it as a text file gives
        assert mesh.read_index(fh)._records == mesh.load_index(lf)._records
    assert mesh.load_index(other)._records == mesh.load_index(lf)._records
    assert mesh.load_index(other).resolve("a-23187") == "D000001"


def test_an_imported_index_whose_file_name_holds_a_cr_loads(cache_dir: Path, tmp_path: Path) -> None:
    # Its name goes into the index's #source line; read back, a CR would end that line.
    from tests.test_mesh import DESC_XML

    src = tmp_path / "desc2026\r.xml"
    src.write_bytes(DESC_XML.read_bytes())
    index = mesh.load_index(mesh.import_mesh(src, tmp_path / "data"))
    assert "desc2026 .xml" in index.source and len(index) > 0
    with pytest.raises(ValueError, match="one line"):
        mesh.write_index(io.StringIO(), [], "MeSH 2026", "2026", "a\rb")


def test_a_build_without_a_home_directory(tmp_path: Path, data_dir: Path) -> None:
    # A uid with no passwd entry and no HOME (a container): no data or cache folder can be found. The build uses
    # the shipped index, uncached.
    import os
    import subprocess
    import sys

    study = sorted((data_dir / "ctgov_v2" / "studies").glob("*.json"))[0]
    script = ("import pwd, sys\n"
              "def nobody(uid):\n"
              "    raise KeyError(uid)\n"
              "pwd.getpwuid = nobody\n"
              "from kg.build import build\n"
              "print(build([sys.argv[1]], sys.argv[2]).records_built)\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("HOME", datacache.CACHE_DIR_ENV, "KG_DATA_DIR") and not k.startswith("XDG_")}
    done = subprocess.run([sys.executable, "-c", script, str(study), str(tmp_path / "g.nt")], env=env,
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1"]
