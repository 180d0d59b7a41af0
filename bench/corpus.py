"""Benchmark corpora: the shared real records repeated to N records with distinct NCT ids.

Each copy keeps the real record and rewrites only its NCT id (``NCT9`` + copy + index), so the graph
grows like a real registry's. v2 records are written as JSON Lines files of 1,000 studies (one of the
forms ``kg build`` reads); XML records as one file per study.
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
V2_STUDIES = SHARED / "ctgov_v2" / "studies"
XML_STUDIES = SHARED / "ctgov_xml" / "studies"
LINES_PER_FILE = 1000
NCT_ELEMENT = re.compile(r"<nct_id>NCT\d{8}</nct_id>")


def _new_id(n: int) -> str:
    return f"NCT9{n:07d}"


def make_v2_corpus(n_records: int, out_dir: Path, lines_per_file: int | None = None) -> Path:
    """``n_records`` v2 studies as JSON Lines under ``out_dir``, ``lines_per_file`` to a file (reused when
    already there)."""
    per_file = lines_per_file or LINES_PER_FILE
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / f".complete-{n_records}"
    if marker.exists():
        return out_dir
    sources = [orjson.loads(p.read_bytes()) for p in sorted(V2_STUDIES.glob("*.json"))]
    f = None
    for i in range(n_records):
        if i % per_file == 0:
            if f:
                f.close()
            f = (out_dir / f"part-{i // per_file:05d}.jsonl").open("wb")
        study = sources[i % len(sources)]
        study["protocolSection"]["identificationModule"]["nctId"] = _new_id(i)
        f.write(orjson.dumps(study) + b"\n")
    if f:
        f.close()
    marker.touch()
    return out_dir


def make_xml_corpus(n_records: int, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / f".complete-{n_records}"
    if marker.exists():
        return out_dir
    sources = [p.read_text(encoding="utf-8") for p in sorted(XML_STUDIES.glob("*.xml"))]
    for i in range(n_records):
        text = NCT_ELEMENT.sub(f"<nct_id>{_new_id(i)}</nct_id>", sources[i % len(sources)], count=1)
        (out_dir / f"{_new_id(i)}.xml").write_text(text, encoding="utf-8")
    marker.touch()
    return out_dir
