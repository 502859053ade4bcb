"""Search: Polish analysis in our own code, thin engine backends (tantivy by default, whoosh kept working).

analysis.py   text -> folded terms and lemmas (morfeusz2), fold map, acronyms
needs.py      the needs thesaurus (data/needs/thesaurus.toml): need phrases -> ranked types, soft words
synonyms.py   type terms and aliases derived from catalog.types
documents.py  Institution row -> engine-neutral document
plan.py       query text -> engine-neutral query tree (query.py): ranking policy, typo/prefix fallbacks
store.py      generations on disk, atomic publish, writer lock
tantivy_backend.py, whoosh_backend.py   store and score the pre-analysed terms
api.py        SearchQuery / search / update / rebuild (the contract in docs/ARCHITECTURE.md)
cli.py        `wsparcie search`, `wsparcie reindex`
"""
