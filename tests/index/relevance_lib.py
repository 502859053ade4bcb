"""Judged relevance set: test catalog loader and the MRR / recall@10 evaluation.

Shared by tests/index/test_relevance.py and bench/relevance.py (imported by file path).
The catalog (test_catalog.json) holds two real RJPS units (Zabłudów, Bytoń: names and addresses as
published) and realistic TEST institutions named after real places; the test ones have no phones or
e-mails and carry a note saying they are test data.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from catalog.models import Institution
from geo import teryt

HERE = Path(__file__).resolve().parent
CATALOG_FILE = HERE / "test_catalog.json"
JUDGMENTS_FILE = HERE / "relevance_judgments.json"
TEST_NOTE = "Dane testowe (instytucja fikcyjna, nazwana od prawdziwej miejscowości)."


def _jitter(key: str) -> tuple[float, float]:
    digest = hashlib.sha256(key.encode()).digest()
    return (digest[0] - 128) / 20_000, (digest[1] - 128) / 20_000   # within ~1 km of the gmina point


def catalog_rows() -> list[dict]:
    return json.loads(CATALOG_FILE.read_text(encoding="utf-8"))


def load_catalog(session: Session) -> dict[str, int]:
    """Insert the test catalog; returns key -> institution id."""
    ids: dict[str, int] = {}
    for row in catalog_rows():
        gmina = teryt.gmina(row["gmina_id6"])
        assert gmina is not None, row["gmina_id6"]
        dlat, dlon = _jitter(row["key"])
        real = bool(row.get("rjps_id"))
        inst = Institution(
            name=row["name"], type=row["type"], locality=row["locality"], postal_code=row["postal_code"],
            street=row.get("street"), building=row.get("building"),
            address_raw=" ".join(p for p in (row["postal_code"], row["locality"], row.get("street"),
                                             row.get("building")) if p),
            gmina_id6=gmina.id6, powiat_teryt=row.get("powiat_teryt") or gmina.powiat_code,
            woj_teryt=gmina.woj_code, lat=(gmina.lat or 52.0) + dlat, lon=(gmina.lon or 19.0) + dlon,
            geo_precision="gmina", target_groups=row["target_groups"], service_tags=row["service_tags"],
            status=row["status"], rjps_id=row.get("rjps_id"),
            notes=None if real else TEST_NOTE,
        )
        session.add(inst)
        session.flush()
        ids[row["key"]] = int(inst.id)
    session.commit()
    return ids


def key_ids(session: Session) -> dict[str, int]:
    """key -> id for a catalog loaded earlier (matched by name)."""
    by_name = {inst.name: inst.id for inst in session.exec(select(Institution)).all()}
    return {row["key"]: by_name[row["name"]] for row in catalog_rows()}


def judgments() -> list[dict]:
    return json.loads(JUDGMENTS_FILE.read_text(encoding="utf-8"))


NEED_PREFIX = "need:"        # categories of need queries: "need:<family key of catalog.types.NEEDS>"


@dataclass
class Evaluation:
    mrr: float
    recall_at_10: float
    top3_ok: float                 # share of queries whose expected institutions are all in the top 3
    failures: list[str]
    per_category: dict[str, float]
    # per need family: MRR, recall@10, share whose first hit is of an expected type, query count
    per_need: dict[str, dict[str, float]] = field(default_factory=dict)
    type_first: float = 0.0        # over every need query: first hit of an expected type


def evaluate(settings, ids: dict[str, int]) -> Evaluation:
    from index.api import SearchQuery, search

    type_of = {row["key"]: row["type"] for row in catalog_rows()}
    reciprocal, recalls, top3, failures = [], [], [], []
    categories: dict[str, list[float]] = {}
    needs: dict[str, list[tuple[float, float, float]]] = {}
    for judged in judgments():
        expected = {ids[key] for key in judged["expected"]}
        hits = search(settings, SearchQuery(text=judged["query"], per_page=10)).hits
        ranked = [hit.id for hit in hits]
        first = next((i for i, hit_id in enumerate(ranked) if hit_id in expected), None)
        reciprocal.append(0.0 if first is None else 1.0 / (first + 1))
        recalls.append(len(expected & set(ranked)) / len(expected))
        ok = expected <= set(ranked[:3])
        top3.append(1.0 if ok else 0.0)
        category = judged["category"]
        categories.setdefault(category, []).append(reciprocal[-1])
        if category.startswith(NEED_PREFIX):
            right_type = bool(hits) and hits[0].fields["type"] in {type_of[k] for k in judged["expected"]}
            needs.setdefault(category[len(NEED_PREFIX):], []).append(
                (reciprocal[-1], recalls[-1], 1.0 if right_type else 0.0))
        if not ok:
            names = [hit.fields["name"] for hit in hits[:3]]
            failures.append(f"{judged['query']!r}: expected {judged['expected']}, got {names}")
    n = len(reciprocal)
    per_need = {
        family: {"mrr": sum(v[0] for v in values) / len(values),
                 "recall_at_10": sum(v[1] for v in values) / len(values),
                 "type_first": sum(v[2] for v in values) / len(values), "queries": len(values)}
        for family, values in sorted(needs.items())
    }
    need_values = [v for values in needs.values() for v in values]
    return Evaluation(
        sum(reciprocal) / n, sum(recalls) / n, sum(top3) / n, failures,
        {cat: sum(v) / len(v) for cat, v in sorted(categories.items())},
        per_need, sum(v[2] for v in need_values) / len(need_values) if need_values else 0.0,
    )
