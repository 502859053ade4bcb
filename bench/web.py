"""Web benchmark: the real server (`wsparcie serve`: gunicorn worker processes on Linux) over real HTTP.

Per size N: a catalog of N synthetic institutions spread as the country is (dense cities, a long tail of
villages; names and places from bench/search.py's generator pieces), its search index, then the site as
`wsparcie serve --workers W` in a subprocess, measured with clients that each hold one keep-alive connection:

- institution page `/instytucja/<random id>`, home with a place `/?gdzie=<town>` and `/?q=<need>&gdzie=<town>`
  (random towns of the gazetteer, half of them weighted by population), search API `/api/institutions` with
  random words and random filters (type, voivodeship, powiat, near + radius, sort, target group, page):
  p50/p95 at 4 and 16 clients (`--clients`), errors (non-2xx/3xx answers and exceptions);
- throughput (req/s) of the mixed traffic at 16 clients for every worker count of `--workers` (default 1,2),
  and the mix at 64 clients (`--burst`) for errors;
- the map's first view with a COLD server cache (a freshly started server, warmed on other pages only) in
  headless Chromium (Debian's /usr/bin/chromium through Playwright; map tiles from a loopback stand-in and
  left out of the bytes): `/mapa` with every request it makes until drawn, bytes as received (compressed,
  CDP encodedDataLength), time until drawn; again with 4x CPU throttling (CDP Emulation.setCPUThrottlingRate),
  and once warm. "Drawn": map-clusters.js sets `data-map-state="drawn"` on the frame's <html> once it has
  drawn the clusters and pins of its first answer (a map without that flag: `data-markers` plus a marker
  or cluster element in the DOM); `data-map-state="error"` counts as an error;
- server memory: RSS (and PSS) summed over the server's processes after the load.

    .venv/bin/python bench/web.py --n 1000
    .venv/bin/python bench/web.py --compare 1000,20000 [--repeat 3]  # growth ratios against the targets
    .venv/bin/python bench/web.py --n 20000 --profile slowest   # or --profile /instytucja/1: where time goes

Targets (issue 14, reported, not asserted): between 1 000 and 20 000 institutions p95 of the institution page,
home with a place and the search API grow at most 1.5x, the map's cold first view (bytes, time to drawn) at
most 2x; zero errors at 16 and 64 clients; throughput at 16 clients grows with the worker processes.
The last line of output is one JSON object with all figures (the headline p95 keys are at 4 clients).
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import search as gen  # bench/search.py: the synthetic rows
from sqlalchemy import insert, select

from catalog import db
from catalog import settings as settings_mod
from catalog.models import Institution
from catalog.settings import REFERENCE_DATA_DIR
from catalog.types import TARGET_GROUPS, TYPES
from geo import teryt
from index import api as index_api
from tests.browser import CHROMIUM, CHROMIUM_ARGS, tile_server

SCENARIOS = ("detail", "home_place", "api_search")
START_TIMEOUT_S = 120
REQUEST_TIMEOUT_S = 60
THROUGHPUT_TURNS = 3        # mixed traffic at 16 clients, each server in turn
SERVER_THREADS = 8          # `wsparcie serve --threads` default: threads per worker process
PRECISIONS = ["source"] * 5 + ["address"] * 3 + ["postcode", "locality"]
# Shares of the types besides bench/search.py's OTHER_TYPES: first-contact offices are about 15 % of a catalog.
OFFICE_SHARES = {"ops": 12, "pup": 2, "pcpr": 2}
HOME_WORDS = ["pomoc społeczna", "praca", "dom pomocy", "warsztat terapii", "niepełnosprawność", "bezdomność",
              "uzależnienia", "przemoc w rodzinie", "zasiłek", "senior", "terapia", "ośrodek pomocy", "mops", "pcpr",
              "urząd pracy", "interwencja kryzysowa", "spółdzielnia socjalna"]
API_WORDS = HOME_WORDS + ["cis", "kis", "wtz", "zaz", "dps", "fundacja", "stowarzyszenie", "integracji",
                          "klub", "centrum", "rodzinie", "schronienie", "doradztwo", "nadzieja", "razem"]
# "Drawn": the map's own flag (map-clusters.js sets data-map-state="drawn" on the frame's <html> after it has
# drawn the first answer; "error" when that answer failed), else the markers' flag plus something on the map.
DRAWN_JS = """() => {
  const docs = [document];
  for (const f of document.querySelectorAll('iframe')) {
    try { if (f.contentDocument) docs.push(f.contentDocument); } catch (e) { /* cross-origin */ }
  }
  for (const d of docs) {
    const state = d.documentElement && d.documentElement.getAttribute('data-map-state');
    if (state === 'drawn' || state === 'error') return 'data-map-state=' + state;
  }
  for (const d of docs) {
    if (d.documentElement && !d.documentElement.hasAttribute('data-map-state')
        && d.documentElement.hasAttribute('data-markers')
        && d.querySelector('.marker-cluster, .leaflet-marker-icon, path.leaflet-interactive')) return 'markers';
  }
  return false;
}"""
MARKERS_JS = """() => {
  const docs = [document, ...[...document.querySelectorAll('iframe')].map(f => f.contentDocument).filter(Boolean)];
  const out = {elements: 0, clusters: null, pins: null};
  for (const d of docs) {
    out.elements += d.querySelectorAll('.marker-cluster, .leaflet-marker-icon, path.leaflet-interactive').length;
    const root = d.documentElement;
    if (root.hasAttribute('data-clusters')) out.clusters = Number(root.getAttribute('data-clusters'));
    if (root.hasAttribute('data-markers')) out.pins = Number(root.getAttribute('data-markers'));
  }
  return out;
}"""


# --- the catalog --------------------------------------------------------------------------------------

GEONAMES_FIXES = {"Warsaw": "Warszawa", "Bielsko-Biala": "Bielsko-Biała", "Jastrzębie Zdrój": "Jastrzębie-Zdrój"}


def weighted_places() -> tuple[list[dict], list[float]]:
    """GeoNames places (>= 500 inhabitants) and the cumulative weights of their population (dense cities)."""
    with (REFERENCE_DATA_DIR / "gazetteer" / "geonames_miejscowosci_500plus.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["gmina_teryt_pip"]]
    places = [{"name": GEONAMES_FIXES.get(r["nazwa"], r["nazwa"]), "lat": float(r["lat"]), "lon": float(r["lon"]), "gmina": r["gmina_teryt_pip"][:6],
               "population": int(r["populacja"] or 0)} for r in rows]
    return places, list(itertools.accumulate(max(p["population"], 500) for p in places))


def towns() -> list[str]:
    with (REFERENCE_DATA_DIR / "gazetteer" / "prng_miasta.csv").open(encoding="utf-8") as fh:
        return sorted({r["nazwa"] for r in csv.DictReader(fh)})


def spread(n: int, rng: random.Random) -> list[dict]:
    """N institution rows: 60 % placed by population (a Warsaw page has hundreds of neighbours), 40 % on any
    place; points scattered over the place's size; types in catalog-like shares at every N. Offices are as
    many as the country has at most: one OPS per gmina, one PUP and one PCPR per powiat, at its seat."""
    places, weights = weighted_places()
    kinds = list(OFFICE_SHARES) + [t[0] for t in gen.OTHER_TYPES]
    shares = list(OFFICE_SHARES.values()) + [t[1] * 0.84 for t in gen.OTHER_TYPES]
    patterns = {t[0]: t[2] for t in gen.OTHER_TYPES}
    gminy = {g.id6: g for g in teryt.gminy() if g.lat is not None}
    seats = {p.code: teryt.gminy(p.code)[0] for p in teryt.powiaty()}
    served: dict[str, set[str]] = {"ops": set(), "pup": set(), "pcpr": set()}
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        place = rng.choices(places, cum_weights=weights)[0] if rng.random() < 0.6 else rng.choice(places)
        typ = rng.choices(kinds, shares)[0]
        if typ in served:
            row = _office(typ, place, gminy, seats, served[typ], rng)
            if row is not None:
                rows.append(row)
                continue
            typ = "other"            # every office of its kind exists already
        name = patterns[typ].format(of=rng.choice(gen.OF), loc=gen.locative(place["name"]),
                                    brand=rng.choice(gen.BRANDS), org=rng.choice(gen.ORGS))
        name = " ".join(name.split()) + (f" nr {i}" if rng.random() < 0.2 else "")
        size = min(0.12, 0.01 + 0.1 * (place["population"] / 1.8e6) ** 0.5)
        rows.append(gen._row(name, typ, place["gmina"], place["name"], place["lat"] + rng.uniform(-size, size),
                             place["lon"] + rng.uniform(-size, size) * 1.6, rng))
    for row in rows:
        row.update(geo_precision=rng.choice(PRECISIONS), geo_source="bench", updated_at=now,
                   phones=[{"raw": "85 123 45 67", "e164": "+48851234567"}])
    return rows


def _office(typ: str, place: dict, gminy: dict, seats: dict, served: set[str], rng: random.Random) -> dict | None:
    """The office of the place's gmina (OPS) or powiat (PUP, PCPR); another one's when that one exists."""
    g = gminy.get(place["gmina"])
    key = (g.id6 if typ == "ops" else g.powiat_code) if g else None
    pool = gminy if typ == "ops" else seats
    if key is None or key in served:
        free = [k for k in pool if k not in served]
        if not free:
            return None
        key = rng.choice(free)
    served.add(key)
    unit = gminy[key] if typ == "ops" else seats[key]
    loc = gen.locative(unit.name)
    name = {"ops": f"{gen.OPS_KIND.get(unit.kind_code, 'Gminny')} Ośrodek Pomocy Społecznej w {loc}",
            "pup": f"Powiatowy Urząd Pracy w {loc}", "pcpr": f"Powiatowe Centrum Pomocy Rodzinie w {loc}"}[typ]
    return gen._row(name, typ, unit.id6, unit.name, unit.lat, unit.lon, rng)


def build(n: int, seed: int) -> dict:
    """Catalog and index in the current WSPARCIE_DATA_DIR; returns build figures and the institution ids."""
    rng = random.Random(seed)
    settings = settings_mod.load()
    db.upgrade(settings.database_url)
    started = time.perf_counter()
    rows = spread(n, rng)
    with db.session_scope(settings.database_url) as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Institution), rows[start:start + 5000])
    figures: dict = {"insert_s": round(time.perf_counter() - started, 2)}
    started = time.perf_counter()
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
        ids = list(session.execute(select(Institution.id)).scalars())
    figures["index_build_s"] = round(time.perf_counter() - started, 2)
    db.get_engine.cache_clear()
    return {"figures": figures, "ids": ids}


# --- traffic ------------------------------------------------------------------------------------------

class Traffic:
    """Random URLs as real traffic sends them: different ids, places, words and filters every time."""

    def __init__(self, ids: list[int], rng: random.Random) -> None:
        self.ids, self.rng = ids, rng
        self.places, self.weights = weighted_places()
        self.towns = towns()
        self.woj = [w.code for w in teryt.wojewodztwa()]
        self.powiaty = [p.code for p in teryt.powiaty()]
        self.types = [t.value for t in TYPES]

    def _town(self) -> str:
        if self.rng.random() < 0.5:
            return self.rng.choices(self.places, cum_weights=self.weights)[0]["name"]
        return self.rng.choice(self.towns)

    def detail(self) -> str:
        return f"/instytucja/{self.rng.choice(self.ids)}"

    def home_place(self) -> str:
        if self.rng.random() < 0.5:
            return "/?" + urlencode({"gdzie": self._town()})
        return "/?" + urlencode({"q": self.rng.choice(HOME_WORDS), "gdzie": self._town()})

    def api_search(self) -> str:
        rng = self.rng
        args: dict[str, str] = {}
        if rng.random() < 0.85:
            args["q"] = " ".join(rng.sample(API_WORDS, rng.choice([1, 1, 2])))
        if rng.random() < 0.3:
            args["type"] = ",".join(rng.sample(self.types, rng.choice([1, 1, 2])))
        area = rng.random()
        if area < 0.15:
            args["woj"] = rng.choice(self.woj)
        elif area < 0.3:
            args["powiat"] = rng.choice(self.powiaty)
        elif area < 0.6:
            p = rng.choices(self.places, cum_weights=self.weights)[0]
            args["near"] = f"{p['lat']:.4f},{p['lon']:.4f}"
            args["radius_km"] = str(rng.choice([5, 10, 25, 50]))
            if rng.random() < 0.5:
                args["sort"] = "distance"
        if rng.random() < 0.1:
            args["target_group"] = rng.choice(list(TARGET_GROUPS))
        if rng.random() < 0.15:
            args["page"] = str(rng.randint(2, 3))
        return "/api/institutions?" + urlencode(args)

    def urls(self, scenario: str, count: int) -> list[str]:
        if scenario == "mixed":
            return [getattr(self, rng_s)() for rng_s in self.rng.choices(SCENARIOS, k=count)]
        make: Callable[[], str] = getattr(self, scenario)
        return [make() for _ in range(count)]


def load(base: str, urls: list[str], clients: int) -> dict:
    """Every URL once, spread over `clients` threads that each hold one keep-alive connection."""
    latencies: list[float] = []
    errors: Counter = Counter()
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)

    def worker(k: int) -> None:
        mine: list[float] = []
        failed: Counter = Counter()
        with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S, follow_redirects=True,
                          limits=httpx.Limits(max_connections=1, max_keepalive_connections=1)) as client:
            try:
                client.get("/zdrowie")       # open the connection before the clock starts
            except httpx.HTTPError:
                pass
            ready.wait()
            for url in urls[k::clients]:
                t0 = time.perf_counter()
                try:
                    status = client.get(url).status_code
                    if not 200 <= status < 400:
                        failed[str(status)] += 1
                except httpx.HTTPError as exc:
                    failed[type(exc).__name__] += 1
                mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
            errors.update(failed)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {"requests": len(latencies), "clients": clients, "errors": sum(errors.values()),
            "error_kinds": dict(errors), "rps": round(len(latencies) / wall, 1),
            "p50_ms": round(pct(latencies, 50) * 1000, 1), "p95_ms": round(pct(latencies, 95) * 1000, 1)}


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- the server ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(data_dir: Path, workers: int, tile_url: str, wait: bool = True
           ) -> Iterator[tuple[str, subprocess.Popen]]:
    """`wsparcie serve` as a subprocess in its own session (answering /zdrowie unless wait=False: then call
    wait_ready); stopped after the block."""
    port = free_port()
    env = {**os.environ, "WSPARCIE_DATA_DIR": str(data_dir), "WSPARCIE_OFFLINE": "1", "SECRET_KEY": "bench",
           "TILE_URL": tile_url}
    env.pop("DATABASE_URL", None)
    env.pop("INDEX_DIR", None)
    with (data_dir / f"serve-{port}.log").open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "serve", "--port", str(port),
                                 "--workers", str(workers)], cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        if wait:
            wait_ready(base, proc, data_dir)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)     # gunicorn's quick shutdown: the measuring is over
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)     # the session this function started, by its id
            proc.wait(timeout=10)


def wait_ready(base: str, proc: subprocess.Popen, data_dir: Path) -> None:
    log = data_dir / f"serve-{httpx.URL(base).port}.log"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise SystemExit("server exited: " + log.read_text(errors="replace")[-3000:])
        try:
            if httpx.get(base + "/zdrowie", timeout=5).status_code < 600:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("server did not start: " + log.read_text(errors="replace")[-3000:])
        time.sleep(0.2)


def warm(targets: list[tuple[str, int]], traffic: Traffic) -> None:
    """Every thread of every worker of each (base URL, workers) past its first requests of each kind (index
    opened, analysers and the gazetteer loaded: a fresh worker's first requests cost seconds), so the figures
    are of a running site; the map is left cold. The servers warm at once (separate processes)."""
    plans = [(base, [traffic.urls(s, workers * SERVER_THREADS) for s in SCENARIOS], workers * SERVER_THREADS)
             for base, workers in targets]       # URLs drawn here: the generator is not shared across threads

    def one(base: str, batches: list[list[str]], clients: int) -> None:
        for urls in batches:
            load(base, urls, clients)

    threads = [threading.Thread(target=one, args=plan) for plan in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def process_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def memory_mb(pid: int) -> dict:
    """RSS and PSS (shared pages split between the forked workers) summed over the server's processes."""
    rss = pss = 0
    pids = process_tree(pid)
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return {"rss_mb": round(rss / 1024, 1), "pss_mb": round(pss / 1024, 1) if pss else None,
            "server_processes": len(pids)}


# --- the map in Chromium ------------------------------------------------------------------------------

def map_first_view(base: str, tile_prefix: str, throttle: float = 1.0) -> dict:
    """/mapa in a fresh browser context (empty HTTP cache): time until drawn, bytes received until then."""
    from playwright.sync_api import sync_playwright

    urls: dict[str, str] = {}
    finished: list[tuple[str, float]] = []
    failed: list[str] = []
    console: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            page = context.new_page()
            page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
            cdp.on("Network.loadingFinished", lambda e: finished.append((e["requestId"], e["encodedDataLength"])))
            cdp.on("Network.loadingFailed", lambda e: failed.append(e.get("errorText", "")))
            if throttle > 1:
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
            started = time.perf_counter()
            page.goto(base + "/mapa", wait_until="commit")
            hook = page.wait_for_function(DRAWN_JS, polling="raf", timeout=180_000).json_value()
            drawn = time.perf_counter() - started
            until_drawn = list(finished)       # CDP events arrive in order: these ended before "drawn"
            markers = page.evaluate(MARKERS_JS)
            page.wait_for_load_state("networkidle")
            after_idle = list(finished)
            context.close()
        finally:
            browser.close()

    def ours(done: list[tuple[str, float]]) -> list[tuple[str, float]]:
        return [(urls.get(rid, ""), size) for rid, size in done
                if not urls.get(rid, "").startswith((tile_prefix, "data:"))]

    def counted(done: list[tuple[str, float]]) -> list[float]:
        return [size for _url, size in ours(done)]

    largest = sorted(ours(until_drawn), key=lambda item: -item[1])[:4]
    by_kind: Counter = Counter()
    for url, size in ours(until_drawn):
        path = urlsplit(url).path
        by_kind["static" if path.startswith(("/static", "/static-gen")) else
                "data" if path.endswith(".json") else "pages"] += int(size)

    return {"draw_ms": round(drawn * 1000), "transfer_bytes": int(sum(counted(until_drawn))),
            "requests": len(counted(until_drawn)), "transfer_bytes_idle": int(sum(counted(after_idle))),
            "requests_idle": len(counted(after_idle)), "drawn_by": hook, "drawn_elements": markers["elements"],
            "clusters": markers["clusters"], "pins": markers["pins"],
            "failed_requests": len(failed), "console_errors": len(console), "bytes_by_kind": dict(by_kind),
            "largest": [f"{urlsplit(u).path}{'?' if urlsplit(u).query else ''}{urlsplit(u).query[:40]} {int(b)}"
                        for u, b in largest]}


_T0 = time.perf_counter()


def say(text: str) -> None:
    """A progress line with the seconds since start (the last line of output is the JSON)."""
    print(f"[{time.perf_counter() - _T0:6.1f} s] {text}", flush=True)


def map_figures(key: str, view: dict) -> dict:
    say(f"{key}: {view}")
    out = {f"{key}_error": int(view["drawn_by"] == "data-map-state=error"),f"{key}_draw_ms": view["draw_ms"], f"{key}_transfer_bytes": view["transfer_bytes"]}
    if key == "map_cold":
        out.update({"map_transfer_bytes": view["transfer_bytes"], "map_requests": view["requests"],
                    "map_transfer_bytes_idle": view["transfer_bytes_idle"], "map_requests_idle": view["requests_idle"],
                    "map_drawn_by": view["drawn_by"], "map_drawn_elements": view["drawn_elements"],
                    "map_clusters": view["clusters"], "map_pins": view["pins"],
                    "map_bytes_by_kind": view["bytes_by_kind"],
                    "map_console_errors": view["console_errors"], "map_failed_requests": view["failed_requests"]})
    return out


# --- one size -----------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> dict:
    figures: dict = {"n": args.n, "workers": args.workers, "clients": args.clients, "burst_clients": args.burst,
                     "requests": args.requests, "load_avg_start": os.getloadavg()[0], "cpus": os.cpu_count()}
    rng = random.Random(args.seed)
    main_workers = max(args.workers)
    errors = 0
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp, tile_server() as tile_url:
        data_dir = Path(tmp)
        os.environ["WSPARCIE_DATA_DIR"] = str(data_dir)
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("INDEX_DIR", None)
        built = build(args.n, args.seed)
        figures.update(built["figures"])
        say(f"catalog: {args.n} institutions, insert {figures['insert_s']} s, index {figures['index_build_s']} s")
        traffic = Traffic(built["ids"], rng)
        tile_prefix = tile_url.split("{")[0]
        with ExitStack() as stack:
            # All servers start together (each start takes seconds); the spare one stays untouched until the
            # throttled map run, so its map caches are cold then.
            servers = {w: stack.enter_context(server(data_dir, w, tile_url, wait=False)) for w in sorted(args.workers)}
            spare = None
            if not args.no_browser and args.throttle > 1:
                spare = stack.enter_context(server(data_dir, main_workers, tile_url, wait=False))
            everyone = [*servers.values(), *([spare] if spare else [])]
            # On the way out all stop at once (each then waits for its own): gunicorn takes seconds to stop.
            stack.callback(lambda: [p.send_signal(signal.SIGINT) for _b, p in everyone if p.poll() is None])
            for b, p in everyone:
                wait_ready(b, p, data_dir)
            say(f"servers up: {', '.join(f'{w} worker(s) at {b}' for w, (b, _p) in servers.items())}")
            base, proc = servers[main_workers]
            warm([(b, w) for w, (b, _p) in servers.items()] + ([(spare[0], main_workers)] if spare else []), traffic)
            say("warmed")
            if not args.no_browser:        # first on this server: its map caches are cold
                figures.update(map_figures("map_cold", map_first_view(base, tile_prefix)))
                warm_view = map_figures("map_warm", map_first_view(base, tile_prefix))
                figures.update({k: v for k, v in warm_view.items() if k in ("map_warm_draw_ms", "map_warm_error")})
            for clients in args.clients:
                for scenario in SCENARIOS:
                    result = load(base, traffic.urls(scenario, args.requests), clients)
                    errors += result["errors"]
                    say(f"[{main_workers}w] {scenario:<10} {clients:>2} clients: {result}")
                    suffix = "" if clients == args.clients[0] else f"_c{clients}"
                    figures[f"{scenario}_p50_ms{suffix}"] = result["p50_ms"]
                    figures[f"{scenario}_p95_ms{suffix}"] = result["p95_ms"]
                    figures[f"{scenario}_rps{suffix}"] = result["rps"]
                    figures[f"{scenario}_errors{suffix}"] = result["errors"]
            # Throughput per worker count: the servers take turns (a, b, a, b), so a change in the machine's
            # load hits each alike; the median of the turns.
            turns: dict[int, list[dict]] = {w: [] for w in servers}
            for _turn in range(THROUGHPUT_TURNS):
                for w, (b, _p) in servers.items():
                    mixed = load(b, traffic.urls("mixed", max(8, args.requests // 2)), args.clients[-1])
                    errors += mixed["errors"]
                    turns[w].append(mixed)
                    say(f"[{w}w] mixed      {args.clients[-1]:>2} clients: {mixed}")
            figures["throughput_rps_by_workers"] = {
                str(w): round(statistics.median(t["rps"] for t in ts), 1) for w, ts in turns.items()}
            figures.update({"throughput_rps": figures["throughput_rps_by_workers"][str(main_workers)],
                            "mixed_p95_ms": round(statistics.median(t["p95_ms"] for t in turns[main_workers]), 1),
                            "mixed_errors": sum(t["errors"] for ts in turns.values() for t in ts)})
            burst = load(base, traffic.urls("mixed", max(args.requests * 2, args.burst * 3)), args.burst)
            errors += burst["errors"]
            say(f"[{main_workers}w] mixed      {args.burst:>2} clients: {burst}")
            figures.update({"burst_rps": burst["rps"], "burst_p50_ms": burst["p50_ms"],
                            "burst_p95_ms": burst["p95_ms"], "burst_errors": burst["errors"],
                            "burst_error_kinds": burst["error_kinds"]})
            figures.update(memory_mb(proc.pid))
            if spare:
                figures.update(map_figures("map_cold_throttled", map_first_view(spare[0], tile_prefix, args.throttle)))
    errors += sum(v for k, v in figures.items() if k.startswith("map_") and k.endswith("_error"))
    figures["errors"] = errors
    figures["load_avg_end"] = os.getloadavg()[0]
    figures["bench_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    # The headline keys of issue 14 (4 clients; the map's first view with a cold server cache).
    figures["detail_p95_ms"] = figures.get("detail_p95_ms")
    figures["home_place_p95_ms"] = figures.get("home_place_p95_ms")
    figures["api_search_p95_ms"] = figures.get("api_search_p95_ms")
    figures["map_cold_draw_ms"] = figures.get("map_cold_draw_ms")
    figures["map_transfer_bytes"] = figures.get("map_transfer_bytes")
    return figures


# --- comparison and profile ---------------------------------------------------------------------------

RATIO_TARGETS = {"detail_p95_ms": 1.5, "home_place_p95_ms": 1.5, "api_search_p95_ms": 1.5,
                 "map_cold_draw_ms": 2.0, "map_cold_throttled_draw_ms": 2.0, "map_transfer_bytes": 2.0}
RATIO_INFO = ["detail_p95_ms_c16", "home_place_p95_ms_c16", "api_search_p95_ms_c16", "mixed_p95_ms", "burst_p95_ms",
              "map_warm_draw_ms", "throughput_rps",
              "rss_mb"]


def compare(sizes: list[int], passthrough: list[str], repeat: int = 1) -> dict:
    """Each size in its own process; with `repeat` > 1 the sizes alternate (a, b, a, b, ...) so a change in
    the machine's load hits both alike, and every figure is the median of its runs."""
    runs: dict[int, list[dict]] = {n: [] for n in sizes}
    for round_no in range(repeat):
        for n in sizes:
            print(f"== n = {n} (run {round_no + 1} of {repeat}, load {os.getloadavg()[0]:.2f})", flush=True)
            with subprocess.Popen([sys.executable, __file__, "--n", str(n), *passthrough], cwd=REPO, text=True,
                                  stdout=subprocess.PIPE) as proc:
                assert proc.stdout is not None
                last = ""
                for line in proc.stdout:
                    print(line, end="", flush=True)
                    last = line if line.strip() else last
            if proc.returncode:
                raise SystemExit(f"bench/web.py --n {n} failed ({proc.returncode})")
            runs[n].append(json.loads(last))
    results = [_median_figures(runs[n]) for n in sizes]
    small, big = results[0], results[-1]
    ratios: dict = {}
    print(f"\ngrowth {sizes[0]} -> {sizes[-1]}:")
    for key in [*RATIO_TARGETS, *RATIO_INFO]:
        a, b = small.get(key), big.get(key)
        ratio = round(b / a, 2) if a and b is not None else None
        ratios[key] = ratio
        target = RATIO_TARGETS.get(key)
        verdict = "" if target is None or ratio is None else ("ok" if ratio <= target else "MISSED")
        print(f"  {key:<28} {a!s:>10} -> {b!s:>10}  x{ratio}  {f'(target <= {target}x) {verdict}' if target else ''}")
    checks = {"zero_errors": all(r["errors"] == 0 for r in results),
              "throughput_grows_with_workers": all(
                  _grows(r.get("throughput_rps_by_workers", {})) for r in results)}
    print(f"  {checks}")
    return {"sizes": sizes, "repeat": repeat, "ratios": ratios, "targets": RATIO_TARGETS, **checks,
            "runs": {str(r["n"]): r for r in results}}


SETUP_KEYS = {"n", "workers", "clients", "burst_clients", "requests", "cpus", "server_processes"}


def _median_figures(runs: list[dict]) -> dict:
    """Numbers: the median over the runs; errors: the sum; anything else: the first run's value."""
    out = dict(runs[0])
    for key, value in runs[0].items():
        if key == "errors" or key.endswith("_errors"):
            out[key] = sum(r.get(key) or 0 for r in runs)
        elif key in SETUP_KEYS:
            continue
        elif isinstance(value, int | float) and not isinstance(value, bool):
            values = [r[key] for r in runs if isinstance(r.get(key), int | float)]
            out[key] = round(statistics.median(values), 2) if values else value
        elif key == "throughput_rps_by_workers":
            out[key] = {w: round(statistics.median(r[key][w] for r in runs), 1) for w in value}
    out["runs"] = len(runs)
    return out


def _grows(by_workers: dict[str, float]) -> bool:
    values = [by_workers[k] for k in sorted(by_workers, key=int)]
    return len(values) > 1 and all(b > a for a, b in itertools.pairwise(values))


def profile(args: argparse.Namespace, path: str) -> None:
    """Where one request's time goes: the Flask test client under cProfile (in process, no server).
    PATH "slowest" times 30 random URLs of every scenario first and profiles the slowest of them."""
    import cProfile
    import pstats

    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        os.environ["WSPARCIE_DATA_DIR"] = tmp
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("INDEX_DIR", None)
        os.environ.setdefault("SECRET_KEY", "bench")
        built = build(args.n, args.seed)
        from webapp import create_app

        app = create_app()
        with app.test_client() as client:
            def timed(url: str) -> float:
                t0 = time.perf_counter()
                client.get(url).close()
                return (time.perf_counter() - t0) * 1000

            traffic = Traffic(built["ids"], random.Random(args.seed))
            for url in traffic.urls("mixed", 30):          # warm: the index opened, analysers loaded
                timed(url)
            if path == "slowest":
                # the better of two runs: a one-off stall (GC, a busy machine) is not the request's cost
                slowest = {s: max((min(timed(u), timed(u)), u) for u in traffic.urls(s, 30)) for s in SCENARIOS}
                for scenario, (ms, url) in slowest.items():
                    print(f"slowest {scenario}: {ms:.1f} ms {url}")
                path = max(slowest.values())[1]
            times = [timed(path) for _ in range(5)]
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(5):
                response = client.get(path)
                status = response.status_code
                response.close()
            profiler.disable()
        print(f"{path}: status {status}, {statistics.median(times):.1f} ms median of 5 (in process, unprofiled)")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        db.get_engine.cache_clear()
        print(json.dumps({"n": args.n, "path": path, "median_ms": round(statistics.median(times), 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="synthetic institutions (default 1000)")
    parser.add_argument("--requests", type=int, default=60, help="requests per scenario and client count")
    parser.add_argument("--clients", default="4,16", help="client counts of the per-page figures (default 4,16)")
    parser.add_argument("--burst", type=int, default=64, help="clients of the error check (default 64)")
    parser.add_argument("--workers", default="1,2", help="worker processes to measure (default 1,2; the largest "
                                                         "gets every figure, the others throughput only)")
    parser.add_argument("--throttle", type=float, default=4.0, help="CPU slow-down of the second cold map run "
                                                                     "(default 4; 1 skips it)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--no-browser", action="store_true", help="skip the map in Chromium")
    parser.add_argument("--compare", metavar="N1,N2", help="run both sizes and print the growth ratios")
    parser.add_argument("--repeat", type=int, default=1, help="with --compare: alternate the sizes this many "
                                                                  "times and report medians")
    parser.add_argument("--profile", metavar="PATH", help="cProfile one URL path (or 'slowest' of "
                                                                      "random ones) in process and stop")
    args = parser.parse_args()
    if args.compare:
        sizes = [int(s) for s in args.compare.split(",")]
        skip = {"--compare": 1, "--n": 1, "--repeat": 1}
        passthrough, argv = [], sys.argv[1:]
        i = 0
        while i < len(argv):
            name = argv[i].split("=")[0]
            if name in skip:
                i += 1 + (skip[name] if "=" not in argv[i] else 0)
                continue
            passthrough.append(argv[i])
            i += 1
        print(json.dumps(compare(sizes, passthrough, args.repeat)))
        return
    if args.profile:
        profile(args, args.profile)
        return
    args.clients = [int(c) for c in args.clients.split(",")]
    args.workers = [int(w) for w in args.workers.split(",")]
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
