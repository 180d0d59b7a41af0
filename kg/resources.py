"""Where the data the code reads lives: ontology/, shapes/, queries/ and the shipped MeSH index.

They sit at the top of the source tree and ship in the package as ``kg.ontology`` etc.; this module
finds them in either place, so a non-editable ``pip install .`` works like a checkout.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


@cache
def resource_dir(name: str) -> Path:
    """The folder of ``ontology``, ``shapes`` or ``queries``."""
    try:
        found = Path(str(resources.files(f"kg.{name}")))
        if found.is_dir():
            return found
    except ModuleNotFoundError:
        pass
    candidate = _SOURCE_ROOT / name
    if candidate.is_dir():
        return candidate
    raise FileNotFoundError(f"TrialKG data folder {name!r} not found; is the package installed completely?")


def ontology_files() -> list[Path]:
    return sorted(resource_dir("ontology").glob("*.ttl"))
