"""Write kg/data/ctgov_v2_fields.json: the field names the ClinicalTrials.gov API v2 data model allows at the
top of a study, in each section and in each module, from the official OpenAPI spec. kg.sources.ctgov_v2 notes
any other key (e.g. a repository's own ``locations_nested``) instead of ignoring it silently.

    python scripts/make_v2_fields.py ../shared/reference/ctgov-api-v2.openapi.yaml
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml  # PyYAML: only this script needs it

OUT = Path(__file__).resolve().parent.parent / "kg" / "data" / "ctgov_v2_fields.json"


def main(spec_path: str) -> None:
    spec = yaml.safe_load(Path(spec_path).read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]

    def props(name: str) -> dict:
        return schemas[name].get("properties", {})

    def ref(prop: dict) -> str | None:
        target = prop.get("$ref") or prop.get("items", {}).get("$ref")
        return target.rsplit("/", 1)[-1] if target else None

    fields: dict[str, list[str]] = {"": sorted(props("Study"))}
    for section, sprop in props("Study").items():
        if (sname := ref(sprop)) is None:
            continue
        fields[section] = sorted(props(sname))
        for module, mprop in props(sname).items():
            if (mname := ref(mprop)) is not None:
                fields[f"{section}.{module}"] = sorted(props(mname))
    data = {"spec_version": spec["info"]["version"], "fields": fields}
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(fields)} objects)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/ctgov-api-v2.openapi.yaml")
