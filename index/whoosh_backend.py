"""whoosh (whoosh-reloaded) backend: stores and scores the terms index/analysis.py produced.

Text fields use whoosh's own SpaceSeparatedTokenizer over pre-analysed terms, so the index stores no
analyzer object of ours (whoosh pickles analyzers into the index; GUIDE §8)."""
from __future__ import annotations

import json
import logging
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path

from whoosh import collectors, sorting
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from index import tantivy_view
from index.documents import TEXT_FIELDS, IndexDocument
from index.query import (
    AllOf,
    AnyOf,
    Const,
    Filters,
    Fuzzy,
    Match,
    MatchAll,
    Node,
    Prefix,
    SomeOf,
    Term,
    WithOptional,
)

log = logging.getLogger(__name__)

NAME = "whoosh"
FILTER_FIELDS = ("type", "woj", "powiat", "gmina", "status", "places")
MAX_EXPANSIONS = 50


def _schema() -> Schema:
    fields: dict = {
        "id": ID(stored=True, unique=True),
        "sort_name": ID(sortable=True),
        "target_group": KEYWORD(commas=True, lowercase=False, scorable=False, sortable=True),
        "lat": NUMERIC(float, stored=True),
        "lon": NUMERIC(float, stored=True),
        "payload": STORED(),
    }
    for name in FILTER_FIELDS:
        fields[name] = KEYWORD(lowercase=False, scorable=True, sortable=True)
    for name in TEXT_FIELDS:
        fields[name] = TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False)
    return Schema(**fields)


def _document(doc: IndexDocument) -> dict:
    values: dict = {
        "id": str(doc.id),
        "sort_name": doc.sort_name,
        "target_group": ",".join(doc.target_groups),
        "payload": json.dumps(doc.stored, ensure_ascii=False, default=str),
        "type": doc.type, "woj": doc.woj, "powiat": doc.powiat, "gmina": doc.gmina, "status": doc.status,
        "places": doc.places,
    }
    for name in TEXT_FIELDS:
        values[name] = " ".join(doc.terms[name])
    if doc.lat is not None and doc.lon is not None:
        values["lat"], values["lon"] = float(doc.lat), float(doc.lon)
    return {k: v for k, v in values.items() if v != ""}


class Writer:
    def __init__(self, path: Path, create: bool) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.create = create
        self.index = whoosh_index.create_in(str(path), _schema()) if create else whoosh_index.open_dir(str(path))
        self.writer = self.index.writer(limitmb=256)

    def add(self, docs: Iterable[IndexDocument]) -> None:
        add = self.writer.add_document if self.create else self.writer.update_document
        for doc in docs:
            add(**_document(doc))

    def delete(self, ids: Iterable[int]) -> None:
        for doc_id in ids:
            self.writer.delete_by_term("id", str(doc_id))

    def commit(self) -> None:
        self.writer.commit(optimize=self.create)


class Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        # Searches read a private copy of the generation (see index/tantivy_view.py: whoosh mmaps
        # segment files too, and a file truncated under a mapping kills the process with SIGBUS).
        # The fold map is rewritten by index.store; a table of contents appears whole (renamed into place).
        self.copy = tantivy_view.PrivateCopy(path, mutable=("foldmap.json",), sealed_suffixes=(".toc",))
        weakref.finalize(self, tantivy_view.remove, self.copy.path)
        self._version = self._tocs()
        self.index = tantivy_view.with_retries(self.copy, self._open)
        self.searcher = self.index.searcher()
        self.lock = threading.Lock()   # a whoosh searcher is not meant for concurrent use
        # whoosh builds a pure-Python automaton per fuzzy/prefix query on every search; expanding
        # them once into plain terms (per index state) is what keeps typo queries affordable.
        self._expansions: dict[tuple, tuple[str, ...]] = {}

    def _open(self):
        return whoosh_index.open_dir(str(self.copy.path), readonly=True)

    def _tocs(self) -> tuple[str, ...]:
        """Every commit writes a new table of contents (_MAIN_<n>.toc): the generation's version."""
        return tuple(sorted(p.name for p in self.path.glob("_*.toc")))

    def refresh(self) -> bool:
        with self.lock:
            version = self._tocs()
            if version == self._version:
                reason = self.copy.damage()
                if reason is not None and self._tocs() == self._version:
                    raise tantivy_view.GenerationDamaged(f"{self.path.name}: {reason}")
                return False
            if not version:
                raise tantivy_view.GenerationDamaged(f"{self.path.name}: no table of contents")
            # Not searcher.refresh(): it reuses segment readers and so keeps their old deletions.
            try:
                index = tantivy_view.with_retries(self.copy, self._open)
                fresh = index.searcher()
            except OSError as error:
                log.warning("index reload of %s failed, still serving the previous state: %s", self.path, error)
                return False
            old, self.searcher, self.index, self._version = self.searcher, fresh, index, version
            old.close()
            self._expansions.clear()
            return True

    def num_docs(self) -> int:
        return self.searcher.doc_count()

    def _node(self, node: Node) -> wq.Query:
        if isinstance(node, Term):
            return wq.Term(node.field, node.text, boost=node.boost)
        if isinstance(node, (Fuzzy, Prefix)):
            terms = self._expand(node)
            if not terms:
                return wq.NullQuery
            # constant score, as tantivy scores fuzzy and prefix matches: closeness, not term statistics
            return wq.ConstantScoreQuery(wq.Or([wq.Term(node.field, t) for t in terms]), score=node.boost)
        if isinstance(node, AnyOf):
            # Not wq.DisjunctionMax: in whoosh-reloaded 2.7.5 it gives every matching document the best
            # score of any clause (measured), so a plain sum is the honest approximation here.
            return wq.Or([self._node(c) for c in node.clauses])
        if isinstance(node, AllOf):
            return wq.And([self._node(c) for c in node.clauses])
        if isinstance(node, SomeOf):
            return wq.Or([self._node(c) for c in node.clauses])
        if isinstance(node, Const):
            return wq.ConstantScoreQuery(self._node(node.inner), score=node.score)
        if isinstance(node, WithOptional):
            return wq.AndMaybe(self._node(node.required), wq.Or([self._node(c) for c in node.optional]))
        if isinstance(node, MatchAll):
            return wq.Every()
        raise TypeError(node)

    def _expand(self, node: Fuzzy | Prefix) -> tuple[str, ...]:
        key = (type(node).__name__, node.field, node.text, getattr(node, "distance", 0))
        if key not in self._expansions:
            reader = self.searcher.reader()
            if isinstance(node, Fuzzy):
                found = reader.terms_within(node.field, node.text, node.distance, prefix=1)
            else:
                found = (t.decode() if isinstance(t, bytes) else t for t in reader.expand_prefix(node.field, node.text))
            terms = []
            for term in found:
                terms.append(term)
                if len(terms) >= MAX_EXPANSIONS:
                    break
            if len(self._expansions) > 10_000:
                self._expansions.clear()
            self._expansions[key] = tuple(terms)
        return self._expansions[key]

    def _filtered(self, node: Node, filters: Filters) -> wq.Query:
        clauses = [self._node(node)]
        for key, values in filters.values.items():
            if values:
                clauses.append(wq.Or([wq.Term(key, v) for v in values]))
        if filters.bbox:
            min_lat, max_lat, min_lon, max_lon = filters.bbox
            clauses.append(wq.NumericRange("lat", min_lat, max_lat))
            clauses.append(wq.NumericRange("lon", min_lon, max_lon))
        return clauses[0] if len(clauses) == 1 else wq.And(clauses)

    def doc_freq(self, field: str, term: str) -> int:
        with self.lock:
            return self.searcher.doc_frequency(field, term)

    def prefix_exists(self, field: str, prefix: str) -> bool:
        with self.lock:
            reader = self.searcher.reader()
            for _term in reader.expand_prefix(field, prefix):
                return True
            return False

    def _collect(self, query: wq.Query, limit: int):
        # A top-N collector without whoosh's matcher replacement and block-quality skipping: both
        # prune by each clause's declared maximum score, which ConstantScoreQuery and AndMaybe
        # misreport in whoosh-reloaded 2.7.5 (measured: best documents missing, totals changing
        # with the page size).
        collector = collectors.TopCollector(limit=max(limit, 1), usequality=False, replace=0)
        self.searcher.search_with_collector(query, collector)
        return collector.results()

    def top(self, node: Node, filters: Filters, limit: int, offset: int, by_name: bool) -> tuple[int, list[Match]]:
        with self.lock:
            query = self._filtered(node, filters)
            if by_name:
                results = self.searcher.search(query, limit=offset + limit, sortedby="sort_name")
            else:
                results = self._collect(query, offset + limit)
            matches = [
                Match(0.0 if by_name else float(hit.score or 0.0), hit.docnum)
                for hit in results[offset:offset + limit]
            ]
            return len(results), matches

    def located(self, node: Node, filters: Filters, limit: int) -> list[Match]:
        with self.lock:
            results = self._collect(self._filtered(node, filters), limit)
            out = []
            for hit in results:
                stored = self.searcher.stored_fields(hit.docnum)
                out.append(Match(float(hit.score or 0.0), hit.docnum, stored.get("lat"), stored.get("lon")))
            return out

    def ids(self, matches: list[Match]) -> list[int]:
        with self.lock:
            return [int(self.searcher.stored_fields(m.handle)["id"]) for m in matches]

    def stored(self, matches: list[Match]) -> list[tuple[int, dict]]:
        with self.lock:
            out = []
            for match in matches:
                fields = self.searcher.stored_fields(match.handle)
                out.append((int(fields["id"]), json.loads(fields["payload"])))
            return out

    def facets(self, node: Node, filters: Filters, keys: Iterable[str]) -> dict[str, dict[str, int]]:
        keys = list(keys)
        groupedby = {
            key: sorting.FieldFacet(key, allow_overlap=(key == "target_group"), maptype=sorting.Count)
            for key in keys
        }
        with self.lock:
            results = self.searcher.search(self._filtered(node, filters), limit=1, groupedby=groupedby)
            return {key: {str(k): int(v) for k, v in results.groups(key).items() if k} for key in keys}
