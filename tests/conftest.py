"""Shared fixtures: paths to the real records copied into tests/data, and graphs built from them once."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
V2_STUDIES = DATA / "ctgov_v2" / "studies"
_CACHE_DIR = tempfile.mkdtemp(prefix="trialkg-test-cache-")


def pytest_configure(config: pytest.Config) -> None:
    """The tests' own cache folder (derived data, HTTP replies), for every process they start too: the user's
    is neither read nor written."""
    os.environ["KG_CACHE_DIR"] = _CACHE_DIR


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CACHE_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def sample_nq(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """N-Quads of the real v2 sample records (tests/data/ctgov_v2/studies), built once per session."""
    from kg.build import build

    out = tmp_path_factory.mktemp("sample") / "sample.nq"
    report = build([V2_STUDIES], out)
    assert report.skipped == 0, report.problems
    return out


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Oxigraph store folder holding the same sample graph."""
    from kg.build import build

    store = tmp_path_factory.mktemp("store") / "oxigraph"
    build([V2_STUDIES], store=store)
    return store


@pytest.fixture(scope="session")
def resolved_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Oxigraph store of the same sample records built with ``resolve=True``: the resolution graph merges,
    among others, "National Institute of Neuroscience" into "National Institute of Neuroscience, Budapest"
    (a collaborator of NCT01151631) and the two keys of Christina Peters (NCT01949129)."""
    from kg.build import BuildOptions, build

    store = tmp_path_factory.mktemp("resolved") / "oxigraph"
    report = build([V2_STUDIES], store=store, options=BuildOptions(resolve=True))
    assert report.skipped == 0, report.problems
    return store
