"""MeSH name resolution that asks NLM's MeSH lookup API when the local index has no answer (opt-in).

Wraps the local index for the mapping: UIs are normalised locally; a name is resolved locally first and
only then looked up online (an unambiguous exact label match only; replies cached by the HTTP cache).
"""

from __future__ import annotations

from functools import lru_cache

from kg.fetch.pubmed import MeshLookupClient
from kg.mesh import MeshIndex


class OnlineMeshLookup:
    def __init__(self, index: MeshIndex, client: MeshLookupClient) -> None:
        self.index = index
        self.client = client
        self.resolve = lru_cache(maxsize=1 << 14)(self._resolve)  # type: ignore[method-assign]

    def normalise_ui(self, ui: str) -> str | None:
        return self.index.normalise_ui(ui)

    def _resolve(self, name: str) -> str | None:
        return self.index.resolve(name) or self.client.lookup_descriptor(name)
