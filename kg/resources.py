"""Where the data the code reads lives: ontology/, shapes/, queries/ and the shipped MeSH index.

They sit at the top of the source tree and ship in the package as ``kg.ontology`` etc.; this module
finds them in either place, so a non-editable ``pip install .`` works like a checkout.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE.parent


@cache
def resource_dir(name: str) -> Path:
    """The folder of ``ontology``, ``shapes`` or ``queries``."""
    installed = _PACKAGE / name  # site-packages/kg/ontology after a (non-editable) pip install
    if installed.is_dir():
        return installed
    candidate = _SOURCE_ROOT / name  # a checkout or an editable install
    if candidate.is_dir():
        return candidate
    raise FileNotFoundError(f"TrialKG data folder {name!r} not found; is the package installed completely?")


def ontology_files() -> list[Path]:
    return sorted(resource_dir("ontology").glob("*.ttl"))
