"""Files TrialKG writes are made whole beside their target and renamed into place; they end up with the mode
any new file gets under the user's umask (not tempfile's owner-only 0600), so a shared folder stays shared."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.build import build
from kg.fetch.ctgov import write_study
from tests.conftest import V2_STUDIES
from tests.httpserver import DATA_DIR

ONE_STUDY = V2_STUDIES / "NCT00458770.json"


@pytest.fixture(params=[0o022, 0o027], ids=["umask-022", "umask-027"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("name", ["g.nt", "g.nq", "g.ttl.gz", "g.trig"])
def test_build_outputs_follow_the_umask(tmp_path: Path, umask: int, name: str) -> None:
    out = tmp_path / name
    assert build([ONE_STUDY], out).records_built == 1
    assert _mode(out) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left beside it


def test_fetched_studies_follow_the_umask(tmp_path: Path, umask: int) -> None:
    study = json.loads((DATA_DIR / "ctgov/search_last_page_aact.json").read_text())["studies"][0]
    assert write_study(tmp_path, study) == "written"
    [written] = tmp_path.iterdir()
    assert _mode(written) == 0o666 & ~umask
