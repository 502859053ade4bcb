"""The judged relevance set (relevance_judgments.json) must stay above its thresholds on every backend."""
from __future__ import annotations

from collections import Counter

MIN_MRR = 0.85
MIN_RECALL_AT_10 = 0.95
CATEGORIES = {"no-diacritics", "inflection", "typo", "abbreviation", "place+need"}


def test_judged_set_is_large_and_covers_every_category(rel):
    judged = rel.judgments()
    assert len(judged) >= 60
    counts = Counter(j["category"] for j in judged)
    assert set(counts) == CATEGORIES and min(counts.values()) >= 10
    keys = {row["key"] for row in rel.catalog_rows()}
    assert all(set(j["expected"]) <= keys and j["expected"] for j in judged)


def test_relevance_thresholds(built, rel):
    settings, ids = built
    result = rel.evaluate(settings, ids)
    report = f"MRR {result.mrr:.3f}, recall@10 {result.recall_at_10:.3f}; misses: {result.failures}"
    assert result.mrr >= MIN_MRR, report
    assert result.recall_at_10 >= MIN_RECALL_AT_10, report
