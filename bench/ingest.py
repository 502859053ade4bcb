"""Benchmark: a full RJPS scrape + merge of N synthetic units served by a local HTTP server.

    .venv/bin/python bench/ingest.py --n 3000 [--runs 2] [--post-process]

The server answers the real RJPS paths with the real fragment markup (data/registries/samples/rjps)
filled with obviously synthetic content: "Ośrodek Pomocy Społecznej (syntetyczny) nr 17",
example.invalid e-mail/www, no phone numbers. Politeness delay off; a temp data dir and SQLite DB.
Also measures the RJPS parser alone (`parse_units_per_s`: scrapers.rjps.parse_fragment + unit_to_item over
the same N fragments, no HTTP, no database; median of 3 passes).
Prints figures and ends with one JSON line.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import itertools

from catalog import settings as settings_mod
from scrapers.rjps import FRAGMENT_PATH, LISTING_PATH, parse_fragment, unit_to_item

REAL_FRAGMENT = REPO / "data" / "registries" / "samples" / "rjps" / "pobierzDaneJednostki_3499_list_fragment.html"
LABELS = ("Ośrodek pomocy społecznej", "Centrum usług społecznych", "Powiatowe centrum pomocy rodzinie",
          "Centrum integracji społecznej", "Klub integracji społecznej")


def unit_template() -> str:
    """The real unit block (div.jednostka … script) with placeholders instead of the real content."""
    html = REAL_FRAGMENT.read_text(encoding="utf-8")
    start = html.index('<div class="zamknij"')
    block = html[start:html.rindex("</body>")]
    for real, slot in (
        ("Miejski Ośrodek Pomocy Społecznej w Zabłudowie", "{name}"),
        ("<span>Ośrodek pomocy społecznej</span>", "<span>{label}</span>"),
        ("16-060 Zabłudów", "99-999 Syntetyczna Wola"),
        ("ul. Rynek 8", "ul. Przykładowa {id}"),
        ("biuro@mops-zabludow.pl", "jednostka{id}@example.invalid"),
        ('href="tel:85 7188100"', 'href="tel:"'),
        ("tel. 85 7188100", ""),
        ("http://bip.mops.um.zabludow.wrotapodlasia.pl", "http://jednostka{id}.example.invalid"),
        ("2018-02-05", "2024-01-01"),
    ):
        block = block.replace(real, slot)
    return block.replace("3499", "{id}")


def make_source(n: int, seed: int = 1) -> tuple[bytes, dict[str, bytes]]:
    rng = random.Random(seed)
    listing = [{"id": i, "x": round(rng.uniform(14.5, 23.8), 6), "y": round(rng.uniform(49.3, 54.6), 6)}
               for i in range(1, n + 1)]
    template = unit_template()
    fragments = {}
    for i in range(1, n + 1):
        label = LABELS[i % len(LABELS)]
        name = f"{label.split()[0]} {' '.join(w.capitalize() for w in label.split()[1:])} (syntetyczny) nr {i}"
        fragments[str(i)] = template.format(id=i, name=name, label=label).encode("utf-8")
    return json.dumps(listing).encode(), fragments


def serve(listing: bytes, fragments: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if urlsplit(self.path).path == LISTING_PATH:
                self._reply(200, listing, "application/json;charset=UTF-8")
            else:
                self._reply(404, b"", "text/plain")

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            ids = parse_qs(parts.query).get("jednostkiIds", [""])[0].split(",")
            if parts.path == FRAGMENT_PATH and all(i in fragments for i in ids):
                self._reply(200, b"".join(fragments[i] for i in ids), "text/html;charset=UTF-8")
            else:
                self._reply(404, b"", "text/plain")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def parse_rate(fragments: dict[str, bytes]) -> float:
    """Units parsed per second by the adapter's parser alone (the text the HTTP client hands it)."""
    texts = [body.decode("utf-8") for body in fragments.values()]
    passes = []
    for _ in range(3):
        started = time.perf_counter()
        units = 0
        for text in texts:
            for unit in parse_fragment(text):
                unit_to_item(unit, None, None)
                units += 1
        passes.append(units / (time.perf_counter() - started))
    return round(statistics.median(passes), 1)


def run_once(settings) -> dict:
    from orchestration.pipeline import scrape

    stamps: list[float] = []
    started = time.perf_counter()
    summaries = scrape(settings, ["rjps"], progress=lambda done, total: stamps.append(time.perf_counter()),
                       post_process=ARGS.post_process)
    total = time.perf_counter() - started
    summary = summaries[0]
    per_unit = [b - a for a, b in itertools.pairwise(stamps)]
    fetch_s = (stamps[-1] - started) if stamps else total
    return {
        "status": summary.status, "n_in": summary.n_in, "n_new": summary.n_new,
        "n_unchanged": summary.n_unchanged, "n_errors": summary.n_errors,
        "total_s": round(total, 3), "fetch_parse_s": round(fetch_s, 3), "merge_s": round(total - fetch_s, 3),
        "units_per_s": round(summary.n_in / total, 1) if total else 0.0,
        "unit_ms_median": round(statistics.median(per_unit) * 1000, 3) if per_unit else 0.0,
        "unit_ms_p95": round(percentile(per_unit, 0.95) * 1000, 3),
    }


def main() -> None:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="synthetic RJPS units (default 3000)")
    parser.add_argument("--runs", type=int, default=1, help="scrape runs over the same data (2nd = unchanged)")
    parser.add_argument("--post-process", action="store_true", help="also run geo enrich + index stages")
    ARGS = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    listing, fragments = make_source(ARGS.n)
    parse_units_per_s = parse_rate(fragments)
    print(f"RJPS parser alone: {parse_units_per_s} units/s")
    server = serve(listing, fragments)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        os.environ.update({
            "WSPARCIE_DATA_DIR": tmp, "RJPS_BASE_URL": f"http://127.0.0.1:{server.server_port}",
            "RJPS_RATE_LIMIT": "0", "RJPS_EXPECTED_MIN": str(ARGS.n), "HTTP_RETRIES": "2",
        })
        os.environ.pop("DATABASE_URL", None)
        settings = settings_mod.load()
        runs = []
        for number in range(1, ARGS.runs + 1):
            figures = run_once(settings)
            runs.append(figures)
            print(f"run {number}: {figures['status']}, {figures['n_in']} units in {figures['total_s']} s "
                  f"({figures['units_per_s']} units/s; fetch+parse {figures['fetch_parse_s']} s, "
                  f"merge {figures['merge_s']} s); per unit median {figures['unit_ms_median']} ms, "
                  f"p95 {figures['unit_ms_p95']} ms; new {figures['n_new']}, unchanged "
                  f"{figures['n_unchanged']}, errors {figures['n_errors']}")
        captures = sum(1 for p in (settings.captures_dir).rglob("*") if p.is_file())
    server.shutdown()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.1f} MB; {captures} capture files")
    first = runs[0]
    result = {"n": ARGS.n, "runs": len(runs), "parse_units_per_s": parse_units_per_s,
              "units_per_s": first["units_per_s"], "total_s": first["total_s"],
              "fetch_parse_s": first["fetch_parse_s"], "merge_s": first["merge_s"],
              "unit_ms_median": first["unit_ms_median"], "unit_ms_p95": first["unit_ms_p95"],
              "status": first["status"], "peak_rss_mb": round(peak_mb, 1), "capture_files": captures}
    if len(runs) > 1:
        result.update({"rerun_total_s": runs[-1]["total_s"], "rerun_units_per_s": runs[-1]["units_per_s"],
                       "rerun_status": runs[-1]["status"]})
    print(json.dumps(result))


ARGS: argparse.Namespace

if __name__ == "__main__":
    main()
