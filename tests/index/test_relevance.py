"""The judged relevance set (relevance_judgments.json) must stay above its thresholds on every backend,
overall and per need family (categories "need:<family>": the need decides which kind comes first)."""
from __future__ import annotations

from collections import Counter

from catalog.types import NEEDS

MIN_MRR = 0.85
MIN_RECALL_AT_10 = 0.95
CATEGORIES = {"no-diacritics", "inflection", "typo", "abbreviation", "place+need"}
# Per need family, met by the real ranking (bench/relevance.py prints the measured figures).
MIN_NEED_MRR = 0.8
MIN_NEED_TYPE_FIRST = 0.8
MIN_NEED_QUERIES = 4
# The issue's own examples: several kinds stand in each town, the need picks the first.
NAMED_EXAMPLES = {"dom opieki dla mamy Żywiec": "dps", "rodzina zastępcza Cieszyn": "pcpr", "zasiłek Będzin": "ops"}


def test_judged_set_is_large_and_covers_every_category(rel):
    judged = rel.judgments()
    assert len(judged) >= 60
    counts = Counter(j["category"] for j in judged)
    need_families = {c.removeprefix(rel.NEED_PREFIX) for c in counts if c.startswith(rel.NEED_PREFIX)}
    assert {c for c in counts if not c.startswith(rel.NEED_PREFIX)} == CATEGORIES
    assert min(counts[c] for c in CATEGORIES) >= 10
    assert need_families == set(NEEDS)
    assert min(counts[rel.NEED_PREFIX + f] for f in need_families) >= MIN_NEED_QUERIES
    keys = {row["key"] for row in rel.catalog_rows()}
    assert all(set(j["expected"]) <= keys and j["expected"] for j in judged)
    assert set(NAMED_EXAMPLES) <= {j["query"] for j in judged}
    # a few queries in Ukrainian (Cyrillic) and English
    assert sum(any("\u0400" <= ch <= "\u04ff" for ch in j["query"]) for j in judged) >= 5
    assert sum(j["query"].split()[0] in {"nursing", "foster", "domestic", "homeless", "job", "alcohol",
                                          "wheelchair", "suicidal", "no", "social"} for j in judged) >= 5


def test_relevance_thresholds(built, rel):
    settings, ids = built
    result = rel.evaluate(settings, ids)
    report = f"MRR {result.mrr:.3f}, recall@10 {result.recall_at_10:.3f}; misses: {result.failures}"
    assert result.mrr >= MIN_MRR, report
    assert result.recall_at_10 >= MIN_RECALL_AT_10, report
    assert set(result.per_need) == set(NEEDS)
    for family, figures in result.per_need.items():
        assert figures["mrr"] >= MIN_NEED_MRR, (family, figures, report)
        assert figures["type_first"] >= MIN_NEED_TYPE_FIRST, (family, figures, report)
        assert figures["recall_at_10"] >= MIN_RECALL_AT_10, (family, figures, report)


def test_the_need_decides_which_kind_comes_first(built, rel):
    from index.api import SearchQuery, search

    settings, _ids = built
    for text, kind in NAMED_EXAMPLES.items():
        hits = search(settings, SearchQuery(text=text, per_page=10)).hits
        assert hits and hits[0].fields["type"] == kind, (text, [h.fields["name"] for h in hits[:3]])
        town = hits[0].fields["gmina_id6"]
        kinds_there = {row["type"] for row in rel.catalog_rows() if row["gmina_id6"] == town[:6]}
        assert {"ops", "pcpr", "pup", "dps"} <= kinds_there, text    # the town has the other kinds too
