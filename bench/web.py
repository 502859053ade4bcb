"""Web benchmark: the app under waitress on loopback with N synthetic institutions.

Measures the search API and the results page with concurrent clients (requests/s, p50, p95, errors),
then, in headless Chromium (Debian's /usr/bin/chromium via Playwright, tiles blocked), the time until
the map frame has drawn all markers and the page weight before tiles. Targets (reported, not asserted):
API p95 <= 100 ms at 4 clients with 0 errors; map <= 2 s and <= 1.5 MB at 10 000 institutions.

    .venv/bin/python bench/web.py --n 10000

The last line of output is one JSON object with all figures.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from catalog import db
from catalog.models import Institution
from catalog.settings import load
from catalog.types import TYPES, InstitutionType
from geo import teryt
from index import api as index_api

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TYPE_WEIGHTS = {"ops": 30, "pcpr": 4, "pup": 4, "cis": 3, "kis": 3, "zaz": 2, "wtz": 8, "owes": 1, "ps": 5,
                "spoldzielnia-socjalna": 10, "dps": 10, "sds": 8, "oik": 3, "other": 9}
PRECISIONS = ["source"] * 5 + ["address"] * 3 + ["postcode", "locality"]
API_QUERIES = ["q=pomoc", "q=integracji", "q=warsztat terapii", "q=praca&type=pup", "type=cis,kis",
               "q=ośrodek&woj=12", "near=52.23,21.01&radius_km=25", "q=dom&near=50.06,19.94&sort=distance",
               "powiat=2061", "q=spoldzielnia"]
PAGE_QUERIES = ["q=pomoc", "q=integracji", "q=praca", "q=warsztat", "q=dom pomocy"]


def synthetic(n: int, seed: int = 7) -> list[Institution]:
    """N institutions spread over real gminy (points near each gmina's interior point)."""
    rng = random.Random(seed)
    gminy = [g for g in teryt.gminy() if g.lat is not None]
    codes, weights = list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values())
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        g = rng.choice(gminy)
        code = rng.choices(codes, weights)[0]
        label = TYPES[InstitutionType(code)].label
        out.append(Institution(
            name=f"{label} w {g.name}" + (f" nr {i}" if rng.random() < 0.3 else ""), type=code,
            gmina_id6=g.id6, powiat_teryt=g.powiat_code, woj_teryt=g.woj_code, locality=g.name,
            street=f"ul. {rng.choice(['Rynek', 'Kościuszki', 'Mickiewicza', 'Polna', 'Szkolna'])}",
            building=str(rng.randint(1, 120)), postal_code=f"{rng.randint(0, 99):02d}-{rng.randint(0, 999):03d}",
            lat=round(g.lat + rng.uniform(-0.03, 0.03), 6), lon=round(g.lon + rng.uniform(-0.03, 0.03), 6),
            geo_precision=rng.choice(PRECISIONS), geo_source="bench",
            phones=[{"raw": "85 123 45 67", "e164": "+48851234567"}], updated_at=now,
        ))
    return out


def build(data_dir: Path, n: int) -> dict:
    os.environ["WSPARCIE_DATA_DIR"] = str(data_dir)
    settings = load()
    db.upgrade(settings.database_url)
    started = time.perf_counter()
    with db.session_scope(settings.database_url) as session:
        session.add_all(synthetic(n))
    figures = {"insert_s": round(time.perf_counter() - started, 2)}
    started = time.perf_counter()
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
    figures["index_build_s"] = round(time.perf_counter() - started, 2)
    return figures


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "WSPARCIE_DATA_DIR": str(data_dir), "SECRET_KEY": "bench"}
    cmd = [sys.executable, "-m", "waitress", "--host=127.0.0.1", f"--port={port}", "--threads=8",
           "--call", "webapp:create_app"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/wojewodztwa", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server did not start: {proc.stderr.read().decode()[-2000:]}")


def load_test(base: str, paths: list[str], clients: int, total: int) -> dict:
    """`total` requests spread over `clients` threads, one keep-alive connection each."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(k: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            client.get(paths[0])        # warm the connection
            for i in range(k, total, clients):
                t0 = time.perf_counter()
                try:
                    ok = client.get(paths[i % len(paths)]).status_code == 200
                except httpx.HTTPError:
                    ok = False
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    errors[0] += 0 if ok else 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(latencies), "clients": clients, "errors": errors[0],
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 1),
    }


def map_in_browser(url: str, tile_host: str) -> dict:
    from playwright.sync_api import sync_playwright

    weights: dict[str, int] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.route(lambda u: tile_host in u, lambda route: route.abort())
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        def count(response) -> None:
            if tile_host not in response.url:
                try:
                    weights[response.url] = len(response.body())
                except Exception:  # noqa: BLE001  (a redirect or aborted response has no body)
                    weights[response.url] = 0
        page.on("response", count)
        started = time.perf_counter()
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_function("document.documentElement.getAttribute('data-markers') !== null", timeout=60_000)
        page.wait_for_selector(".marker-cluster, .leaflet-interactive", timeout=60_000)
        drawn = time.perf_counter() - started
        markers = int(page.evaluate("document.documentElement.getAttribute('data-markers')"))
        page.wait_for_load_state("load")
        browser.close()
    tile_errors = [e for e in errors if "ERR_FAILED" in e or "net::" in e]
    return {"map_drawn_s": round(drawn, 2), "map_markers": markers,
            "map_weight_mb": round(sum(weights.values()) / 1e6, 3), "map_requests": len(weights),
            "console_errors": len(errors) - len(tile_errors)}


def server_peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="synthetic institutions (default 10000)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=200, help="requests per scenario")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    figures: dict = {"n": args.n}
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        data_dir = Path(tmp)
        figures.update(build(data_dir, args.n))
        port = free_port()
        server = start_server(data_dir, port)
        base = f"http://127.0.0.1:{port}"
        try:
            api = load_test(base, [f"/api/institutions?{q}" for q in API_QUERIES], args.clients, args.requests)
            print(f"search API  : {api}")
            page = load_test(base, [f"/instytucje?{q}" for q in PAGE_QUERIES], args.clients, args.requests)
            print(f"results page: {page}")
            figures.update({f"api_{k}": v for k, v in api.items()})
            figures.update({f"page_{k}": v for k, v in page.items()})
            t0 = time.perf_counter()
            frame = httpx.get(f"{base}/mapa/ramka", timeout=120)
            figures["map_frame_server_s"] = round(time.perf_counter() - t0, 2)
            figures["map_frame_html_mb"] = round(len(frame.content) / 1e6, 3)
            if not args.no_browser:
                tile_host = httpx.URL(load().tile_url.replace("{s}", "a").split("{")[0]).host
                browser = map_in_browser(f"{base}/mapa/ramka", tile_host)
                print(f"map (chromium): {browser}")
                figures.update(browser)
            figures["server_peak_rss_mb"] = server_peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    import resource

    figures["bench_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
