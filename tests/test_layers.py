"""Imports run one way: sources -> model -> mapping -> sinks -> build -> cli (read with ast)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KG = Path(__file__).resolve().parent.parent / "kg"

# module (or package prefix) -> kg modules it must never import
FORBIDDEN = {
    "kg.model": ["kg."],
    "kg.report": ["kg."],
    "kg.codes": ["kg."],
    "kg.rdfterms": ["kg."],
    "kg.files": ["kg."],
    "kg.identity": ["kg.sources", "kg.mapping", "kg.sinks", "kg.build", "kg.cli", "kg.fetch"],
    "kg.sources": ["kg.mapping", "kg.sinks", "kg.build", "kg.cli", "kg.fetch", "kg.vocab"],
    "kg.mapping": ["kg.sources", "kg.sinks", "kg.build", "kg.cli", "kg.inputs", "kg.fetch"],
    "kg.sinks": ["kg.sources", "kg.mapping", "kg.build", "kg.cli"],
    "kg.fetch": ["kg.mapping", "kg.sinks", "kg.build", "kg.cli"],
    "kg.build": ["kg.cli"],
    "kg.shacl": ["kg.validate", "kg.build", "kg.cli"],  # the checker knows records' triples, not where they come from
    "kg.validate_parts": ["kg.build", "kg.cli"],
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(KG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


MODULES = sorted(KG.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[_module_name(p) for p in MODULES])
def test_imports_run_one_way(path: Path) -> None:
    name = _module_name(path)
    for owner, banned in FORBIDDEN.items():
        if name == owner or name.startswith(owner + "."):
            bad = {i for i in _imports(path) for b in banned if (i + ".").startswith(b) and not i.startswith(owner)}
            assert not bad, f"{name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", MODULES, ids=[_module_name(p) for p in MODULES])
def test_every_module_says_its_job(path: Path) -> None:
    assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), f"{path} has no module docstring"
