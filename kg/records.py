"""Where a stream of statements is cut into records: the one rule every reader of a graph file follows
(:func:`kg.validate.group_records` over pyoxigraph's parse, :mod:`kg.ntlines`, the cuts of
:mod:`kg.validate_parts`).

With graphs (N-Quads, TriG) a record is one named graph's statements, followed by the lines the build writes for
that record in the entities graph. Without graphs (N-Triples, Turtle) a record starts where a subject minted for
another trial appears; canonical organisations, people and MeSH nodes stay with the record around them.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

import pyoxigraph as ox

from kg.identity import is_entities_graph
from kg.shacl import RecordTriples, trial_of


class RecordCutter:
    """A reader tells it where the graph (``quads``) or the subject changes (:meth:`at`); it says which record
    ends there. ``append`` adds a triple to the current record, ``key`` is the term of a pyoxigraph statement
    whose changes it is told."""

    __slots__ = ("at", "key", "record", "append", "_quads", "_trials")

    def __init__(self, quads: bool) -> None:
        self._quads = quads
        self.at = self._graph if quads else self._subject
        self.key = attrgetter("graph_name" if quads else "subject")
        self.record: RecordTriples | None = None
        self.append = _no_record
        self._trials: dict[str | None, str | None] = {}  # the current record's subjects: each recurs

    def _graph(self, iri: str | None) -> RecordTriples | None:
        """The statements that follow are in the graph named ``iri`` (None: the default graph or a blank node):
        the record that ends here, if any."""
        if self.record is not None and iri is not None and is_entities_graph(iri):
            return None
        return self._start(trial_of(iri) if iri is not None else None)

    def _subject(self, iri: str | None) -> RecordTriples | None:
        """The statements that follow have the subject ``iri`` (None: a blank node): the record that ends here,
        if any."""
        trial = self._trials.get(iri, _UNSEEN)
        if trial is _UNSEEN:
            trial = self._trials[iri] = trial_of(iri) if iri is not None else None
        if self.record is not None and (trial is None or trial == self.record.label):
            return None
        return self._start(trial)

    def surely_ended(self, done: RecordTriples) -> bool:
        """Whether a record :meth:`at` says ended, told of statements from the middle of a stream, ends there
        whatever came before: a graph change says so alone, a subject only once the record's trial is known."""
        return self._quads or done.label is not None

    def end(self) -> RecordTriples | None:
        """The last record, at the end of the stream."""
        done, self.record, self.append = self.record, None, _no_record
        return done

    def _start(self, label: str | None) -> RecordTriples | None:
        done, self.record = self.record, RecordTriples(label, [])
        self._trials.clear()
        self.append = self.record.triples.append
        return done


def named(term: Any) -> str | None:
    """The IRI of a pyoxigraph graph name or subject, None for a blank node or the default graph."""
    return term.value if isinstance(term, ox.NamedNode) else None


_UNSEEN = "\0"  # no trial id


def _no_record(triple: object) -> None:
    raise RuntimeError("a triple before the reader said which graph or subject it is in")
