"""Fill the coded-value ``sh:in`` lists of shapes/trialkg.ttl from kg/codes.py.

Each list opened as ``sh:in (  # codes: SCHEME`` is rewritten to hold every code IRI of SCHEME, in the
order of kg/codes.py; the rest of the file is left as written. Run after changing kg/codes.py;
tests/test_shapes.py fails while the committed file differs.

    python scripts/make_shape_lists.py          # rewrite shapes/trialkg.ttl
    python scripts/make_shape_lists.py --check  # exit 1 if it is stale
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from kg.codes import SCHEMES, code_iri

SHAPES = Path(__file__).resolve().parent.parent / "shapes" / "trialkg.ttl"
LINE_WIDTH = 110
# The opening marker, its indentation and scheme, then everything up to the list's closing parenthesis
# (code IRIs never contain one).
_LIST_RE = re.compile(r"^(?P<indent>[ ]*)sh:in \(  # codes: (?P<scheme>[a-z-]+)\n[^)]*\)", re.M)


def _items(scheme: str, indent: str) -> list[str]:
    lines: list[str] = []
    line = ""
    for value in SCHEMES[scheme]:
        item = f"<{code_iri(scheme, value)}>"
        if line and len(indent) + 4 + len(line) + 1 + len(item) > LINE_WIDTH:
            lines.append(line)
            line = item
        else:
            line = f"{line} {item}" if line else item
    if line:
        lines.append(line)
    return [f"{indent}    {x}" for x in lines]


def _replace(m: re.Match[str]) -> str:
    indent, scheme = m.group("indent"), m.group("scheme")
    if scheme not in SCHEMES:
        raise SystemExit(f"shapes/trialkg.ttl names unknown code scheme {scheme!r}")
    return "\n".join([f"{indent}sh:in (  # codes: {scheme}", *_items(scheme, indent), f"{indent})"])


def render(text: str) -> str:
    """``text`` with every marked ``sh:in`` list filled from kg/codes.py."""
    return _LIST_RE.sub(_replace, text)


def main(argv: list[str]) -> int:
    current = SHAPES.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in argv:
        if wanted != current:
            sys.stderr.write(f"{SHAPES} is stale: run python scripts/make_shape_lists.py\n")
            return 1
        return 0
    SHAPES.write_text(wanted, encoding="utf-8")
    sys.stdout.write(f"wrote {SHAPES}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
