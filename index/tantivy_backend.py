"""tantivy backend: stores and scores the terms index/analysis.py produced (whitespace tokenizer)."""
from __future__ import annotations

import json
import logging
import os
import weakref
from collections.abc import Iterable
from pathlib import Path

import tantivy

from index import tantivy_view
from index.documents import FACET_KEYS, TEXT_FIELDS, IndexDocument
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

NAME = "tantivy"
FILTER_FIELDS = ("type", "woj", "powiat", "gmina", "status", "target_group", "places")
_TIE_BREAKER = 0.1


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="freq")
    for name in FILTER_FIELDS:
        builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("sort_name", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_float_field("lat", indexed=True, fast=True)
    builder.add_float_field("lon", indexed=True, fast=True)
    builder.add_bytes_field("payload", stored=True)
    return builder.build()


def _document(doc: IndexDocument) -> tantivy.Document:
    values: dict = {
        "id": doc.id,
        "type": doc.type, "woj": doc.woj, "powiat": doc.powiat, "gmina": doc.gmina, "status": doc.status,
        "sort_name": doc.sort_name, "places": doc.places,
        "payload": json.dumps(doc.stored, ensure_ascii=False, default=str).encode(),
    }
    for name in TEXT_FIELDS:
        values[name] = " ".join(doc.terms[name])
    if doc.target_groups:
        values["target_group"] = doc.target_groups
    if doc.lat is not None and doc.lon is not None:
        values["lat"], values["lon"] = float(doc.lat), float(doc.lon)
    return tantivy.Document(**values)


def share_like_directory(path: Path) -> None:
    """Give every file in the generation the read access its directory has.

    tantivy writes meta.json and .managed.json through 0600 temporary files, which would lock
    a web process running as another user out of every index this writer builds or updates."""
    wanted = path.stat().st_mode & 0o666
    for entry in os.scandir(path):
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mode & 0o777 != wanted:
                os.chmod(entry.path, wanted)
        except FileNotFoundError:   # removed by tantivy's garbage collection meanwhile
            pass


class Writer:
    def __init__(self, path: Path, create: bool) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.index = tantivy.Index(_schema(), path=str(path)) if create else tantivy.Index.open(str(path))
        # One indexing thread: the machine is shared (2 cores) and analysis in Python is the bottleneck.
        self.writer = self.index.writer(heap_size=200_000_000 if create else 50_000_000, num_threads=1)

    def add(self, docs: Iterable[IndexDocument]) -> None:
        for doc in docs:
            self.writer.add_document(_document(doc))

    def delete(self, ids: Iterable[int]) -> None:
        for doc_id in ids:
            self.writer.delete_documents_by_term("id", int(doc_id))

    def commit(self) -> None:
        self.writer.commit()
        share_like_directory(self.path)
        self.writer.wait_merging_threads()
        share_like_directory(self.path)   # merges commit a new meta.json too


# Replaced (by rename) on every commit; the fold map by index.store.
META_FILES = ("meta.json", ".managed.json", "foldmap.json")


class Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._meta_stamp = self._stamp()
        # Searches read a private copy of the generation (tantivy_view: SIGBUS, read-only web user).
        self.copy = tantivy_view.PrivateCopy(path, mutable=META_FILES)
        weakref.finalize(self, tantivy_view.remove, self.copy.path)
        self.index = tantivy_view.with_retries(self.copy, self._open)
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def _open(self) -> tantivy.Index:
        index = tantivy.Index.open(str(self.copy.path))
        # We reload explicitly in refresh(): no watcher thread reloading behind our back.
        index.config_reader("Manual", 0)
        return index

    def _stamp(self) -> tuple[int, int, int] | None:
        # meta.json is replaced by a rename on every commit: a new inode even within one mtime tick.
        try:
            st = (self.path / "meta.json").stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def refresh(self) -> bool:
        """Pick up commits made by another process into this generation (cheap stats when none);
        raise GenerationDamaged when the generation's files changed outside a commit."""
        stamp = self._stamp()
        if stamp == self._meta_stamp:
            reason = self.copy.damage()
            if reason is not None and self._stamp() == self._meta_stamp:
                raise tantivy_view.GenerationDamaged(f"{self.path.name}: {reason}")
            return False
        if stamp is None:
            raise tantivy_view.GenerationDamaged(f"{self.path.name}: meta.json is missing")
        try:
            tantivy_view.with_retries(self.copy, self.index.reload)
        except ValueError as error:   # meta.json no longer parses: not a commit in progress
            raise tantivy_view.GenerationDamaged(f"{self.path.name}: {error}") from error
        except OSError as error:
            # e.g. the writer has not yet made its new meta.json readable: keep answering from the
            # snapshot we have; the stamp stays old, so the next search tries again.
            log.warning("index reload of %s failed, still serving the previous state: %s", self.path, error)
            return False
        self.searcher = self.index.searcher()
        self._meta_stamp = stamp
        return True

    def num_docs(self) -> int:
        return self.searcher.num_docs

    # --- query translation ---
    def _node(self, node: Node) -> tantivy.Query:
        Q = tantivy.Query
        if isinstance(node, Term):
            query = Q.term_query(self.schema, node.field, node.text)
        elif isinstance(node, Fuzzy):
            query = Q.fuzzy_term_query(self.schema, node.field, node.text, node.distance, True, False)
        elif isinstance(node, Prefix):
            query = Q.fuzzy_term_query(self.schema, node.field, node.text, 0, True, True)
        elif isinstance(node, AnyOf):
            return Q.disjunction_max_query([self._node(c) for c in node.clauses], _TIE_BREAKER)
        elif isinstance(node, AllOf):
            return Q.boolean_query([(tantivy.Occur.Must, self._node(c)) for c in node.clauses])
        elif isinstance(node, SomeOf):
            return Q.boolean_query([(tantivy.Occur.Should, self._node(c)) for c in node.clauses])
        elif isinstance(node, Const):
            return Q.const_score_query(self._node(node.inner), node.score)
        elif isinstance(node, WithOptional):
            return Q.boolean_query(
                [(tantivy.Occur.Must, self._node(node.required))]
                + [(tantivy.Occur.Should, self._node(c)) for c in node.optional]
            )
        elif isinstance(node, MatchAll):
            return Q.all_query()
        else:
            raise TypeError(node)
        return Q.boost_query(query, node.boost) if node.boost != 1.0 else query

    def _filtered(self, node: Node, filters: Filters) -> tantivy.Query:
        Q = tantivy.Query
        clauses = [(tantivy.Occur.Must, self._node(node))]
        for key, values in filters.values.items():
            if values:
                clauses.append((tantivy.Occur.Must, Q.term_set_query(self.schema, key, list(values))))
        if filters.bbox:
            min_lat, max_lat, min_lon, max_lon = filters.bbox
            for name, low, high in (("lat", min_lat, max_lat), ("lon", min_lon, max_lon)):
                box = Q.range_query(self.schema, name, tantivy.FieldType.Float, low, high)
                clauses.append((tantivy.Occur.Must, box))
        return clauses[0][1] if len(clauses) == 1 else Q.boolean_query(clauses)

    # --- the operations api.py needs ---
    def doc_freq(self, field: str, term: str) -> int:
        return self.searcher.doc_freq(field, term)

    def prefix_exists(self, field: str, prefix: str) -> bool:
        return bool(self.searcher.terms_with_prefix(field, prefix, limit=1))

    def top(self, node: Node, filters: Filters, limit: int, offset: int, by_name: bool) -> tuple[int, list[Match]]:
        query = self._filtered(node, filters)
        if by_name:
            result = self.searcher.search(query, limit, True, "sort_name", offset, tantivy.Order.Asc)
            return result.count, [Match(0.0, address) for _key, address in result.hits]
        result = self.searcher.search(query, limit, True, None, offset)
        return result.count, [Match(float(score), address) for score, address in result.hits]

    def located(self, node: Node, filters: Filters, limit: int) -> list[Match]:
        """Matches with coordinates (for distance sorting), best score first."""
        result = self.searcher.search(self._filtered(node, filters), max(limit, 1), False)
        addresses = [address for _score, address in result.hits]
        lats = self.searcher.fast_field_values("lat", addresses)
        lons = self.searcher.fast_field_values("lon", addresses)
        return [
            Match(float(score), address, lat, lon)
            for (score, address), lat, lon in zip(result.hits, lats, lons, strict=False)
        ]

    def ids(self, matches: list[Match]) -> list[int]:
        """Institution ids of these matches from the fast field (no stored document read: the map
        asks for thousands)."""
        return [int(v) for v in self.searcher.fast_field_values("id", [m.handle for m in matches])]

    def stored(self, matches: list[Match]) -> list[tuple[int, dict]]:
        out = []
        for match in matches:
            doc = self.searcher.doc(match.handle)
            out.append((int(doc["id"][0]), json.loads(bytes(doc["payload"][0]))))
        return out

    def facets(self, node: Node, filters: Filters, keys: Iterable[str]) -> dict[str, dict[str, int]]:
        keys = list(keys)
        spec = {key: {"terms": {"field": _facet_field(key), "size": 500}} for key in keys}
        result = self.searcher.aggregate(self._filtered(node, filters), spec)
        return {key: {b["key"]: int(b["doc_count"]) for b in result[key]["buckets"]} for key in keys}


def _facet_field(key: str) -> str:
    assert key in FACET_KEYS or key == "gmina"
    return key
