"""Benchmark corpora: the shared real records repeated to N records with distinct NCT ids.

Each copy keeps the real record and rewrites only its NCT id (``NCT9`` + copy + index), so the graph
grows like a real registry's. v2 records are written as JSON Lines files of 1,000 studies (one of the
forms ``kg build`` reads), or as one array laid out as the website's ``ctg-studies.json`` download; XML
records as one file per study.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import orjson

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
V2_STUDIES = SHARED / "ctgov_v2" / "studies"
XML_STUDIES = SHARED / "ctgov_xml" / "studies"
LINES_PER_FILE = 1000
NCT_ELEMENT = re.compile(r"<nct_id>NCT\d{8}</nct_id>")


def _new_id(n: int) -> str:
    return f"NCT9{n:07d}"


def _v2_studies(n_records: int) -> Iterator[bytes]:
    """The real v2 studies repeated to ``n_records``, each compact JSON with its new NCT id."""
    sources = [orjson.loads(p.read_bytes()) for p in sorted(V2_STUDIES.glob("*.json"))]
    for i in range(n_records):
        study = sources[i % len(sources)]
        study["protocolSection"]["identificationModule"]["nctId"] = _new_id(i)
        yield orjson.dumps(study)


def make_v2_corpus(n_records: int, out_dir: Path, lines_per_file: int | None = None) -> Path:
    """``n_records`` v2 studies as JSON Lines under ``out_dir``, ``lines_per_file`` to a file (reused when
    already there)."""
    per_file = lines_per_file or LINES_PER_FILE
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / f".complete-{n_records}"
    if marker.exists():
        return out_dir
    f = None
    for i, study in enumerate(_v2_studies(n_records)):
        if i % per_file == 0:
            if f:
                f.close()
            f = (out_dir / f"part-{i // per_file:05d}.jsonl").open("wb")
        f.write(study + b"\n")
    if f:
        f.close()
    marker.touch()
    return out_dir


def make_v2_array(n_records: int, out_dir: Path, gzipped: bool = False) -> Path:
    """``n_records`` v2 studies as one ``ctg-studies.json`` array under ``out_dir``, laid out as the website writes
    it: "[", a study a line each ending in ",", "]" (reused when already there)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ("ctg-studies.json.gz" if gzipped else "ctg-studies.json")
    marker = out_dir / f".complete-{n_records}{'-gz' if gzipped else ''}"
    if marker.exists():
        return path
    with (gzip.open(path, "wb", compresslevel=6) if gzipped else path.open("wb")) as f:
        f.write(b"[\n")
        for i, study in enumerate(_v2_studies(n_records)):
            f.write((b",\n" if i else b"") + study)
        f.write(b"\n]")
    marker.touch()
    return path


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
