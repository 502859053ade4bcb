"""Relevance on the judged set (tests/index/relevance_judgments.json): MRR and recall@10 per backend,
and per need family (categories "need:<family>"): MRR, recall@10 and the share of queries whose first
hit is of the right institution type (the need decides which kind comes first).

    .venv/bin/python bench/relevance.py [--n 0] [--backend tantivy|whoosh]

--n adds N synthetic distractor institutions (bench/search.py's generator) to the judged test catalog,
to see whether ranking holds up in a fuller index. The last line is one JSON object."""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert

from catalog import db
from catalog import settings as settings_mod
from catalog.models import Institution
from index import api


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=0, help="synthetic distractor institutions to add")
    parser.add_argument("--backend", choices=sorted(api.BACKENDS), action="append")
    args = parser.parse_args()
    rel = _load("relevance_lib", ROOT / "tests" / "index" / "relevance_lib.py")
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-relevance-") as tmp:
        os.environ["WSPARCIE_DATA_DIR"] = tmp
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("INDEX_DIR", None)
        settings = settings_mod.load()
        db.upgrade(settings.database_url)
        with db.session_scope(settings.database_url) as session:
            ids = rel.load_catalog(session)
            if args.n:
                generator = _load("bench_search", ROOT / "bench" / "search.py")
                session.execute(insert(Institution), generator.generate(args.n, random.Random(7)))
        for backend in args.backend or ["tantivy", "whoosh"]:
            backend_settings = dataclasses.replace(settings, search_backend=backend)
            with db.session_scope(settings.database_url) as session:
                api.rebuild(backend_settings, session)
            started = time.perf_counter()
            result = rel.evaluate(backend_settings, ids)
            elapsed = time.perf_counter() - started
            figures[backend] = {
                "mrr": round(result.mrr, 4), "recall_at_10": round(result.recall_at_10, 4),
                "top3": round(result.top3_ok, 4), "mrr_by_category": {k: round(v, 3) for k, v in
                                                                       result.per_category.items()},
                "type_first": round(result.type_first, 4),
                "by_need": {family: {k: round(v, 3) if isinstance(v, float) else v for k, v in figs.items()}
                            for family, figs in result.per_need.items()},
                "eval_s": round(elapsed, 2),
            }
            print(f"[{backend}] MRR {result.mrr:.3f}  recall@10 {result.recall_at_10:.3f}  "
                  f"all expected in top 3: {result.top3_ok:.3f}  ({len(rel.judgments())} queries, {elapsed:.1f} s)")
            print(f"[{backend}] MRR by category: {figures[backend]['mrr_by_category']}")
            print(f"[{backend}] need queries with the right type first: {result.type_first:.3f}")
            for family, figs in result.per_need.items():
                print(f"[{backend}]   {family:20} MRR {figs['mrr']:.3f}  recall@10 {figs['recall_at_10']:.3f}  "
                      f"right type first {figs['type_first']:.3f}  ({figs['queries']} queries)")
            for failure in result.failures:
                print(f"[{backend}] miss: {failure}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"n_distractors": args.n, "queries": len(rel.judgments()), "peak_rss_mb": round(peak_mb),
                      "backends": figures}))


if __name__ == "__main__":
    main()
