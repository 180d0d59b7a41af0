"""How the benchmarks run ``kg``: as a user's install runs it, every run after the first.

pip compiles a package's modules when it installs them; this machine's environment sets PYTHONDONTWRITEBYTECODE,
which would add their compilation (~0.1 s, ~0.4 G instructions) to every timed run. The MeSH index's derived
tables are read from the cache after a first run (kg.datacache). Both live under the benchmark's work folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

KG = [sys.executable, "-m", "kg.cli"]


def as_installed(work: Path, sample: Path) -> None:
    """Set up this process's environment for the ``kg`` children, and run one build of ``sample`` (a small input)
    so the compiled modules and the cache exist before anything is timed."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    os.environ["KG_CACHE_DIR"] = str(work / "cache")
    subprocess.run([*KG, "build", str(sample), "-o", str(work / "warm-up.nt"), "--no-progress"], check=True,
                   capture_output=True)
