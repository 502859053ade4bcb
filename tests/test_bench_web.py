"""bench/web.py runs end to end at a tiny size: the real server, real HTTP, the map in Chromium.

Nothing here asserts a timing: only that the figures issue 14 asks for are printed in the final JSON line,
that the benchmark's own traffic is valid (zero errors), and that the map's first view was drawn."""
from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from index import params
from tests.browser import CHROMIUM

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "web.py"
HEADLINE = ("detail_p95_ms", "home_place_p95_ms", "api_search_p95_ms", "map_cold_draw_ms", "map_transfer_bytes",
            "errors")
HANG_GUARD_S = 600


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_web", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_web_prints_the_issue_figures_with_zero_errors(tmp_path):
    browser = Path(CHROMIUM).exists() or bool(os.environ.get("CI"))
    args = ["--n", "50", "--requests", "8", "--clients", "2,4", "--burst", "8", "--workers", "1",
            "--throttle", "1", *([] if browser else ["--no-browser"])]
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, str(BENCH), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=HANG_GUARD_S, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(HEADLINE) <= set(figures)
    assert figures["n"] == 50 and figures["workers"] == [1]
    assert figures["errors"] == 0 and figures["burst_errors"] == 0, figures
    for key in ("detail_p95_ms", "home_place_p95_ms", "api_search_p95_ms", "detail_p95_ms_c4", "throughput_rps",
                "rss_mb"):
        assert figures[key] > 0, key
    assert set(figures["throughput_rps_by_workers"]) == {"1"}
    if browser:
        assert figures["map_drawn_by"] in {"data-map-state=drawn", "markers"}
        assert figures["map_transfer_bytes"] > 0 and figures["map_requests"] >= 2
        assert figures["map_cold_draw_ms"] > 0 and figures["map_console_errors"] == 0


def test_bench_traffic_is_valid_and_varied():
    """Every generated URL is one the site accepts (the load test counts refusals as errors), and the URLs
    vary as real traffic does: not a handful repeated."""
    web = _bench_module()
    traffic = web.Traffic(list(range(1, 1001)), random.Random(3))
    api_urls = traffic.urls("api_search", 300)
    for url in api_urls:
        parts = urlsplit(url)
        assert parts.path == "/api/institutions"
        params.parse(parse_qs(parts.query, keep_blank_values=True))   # strict: raises on a refused parameter
    assert len(set(api_urls)) > 250
    homes = traffic.urls("home_place", 200)
    assert all(parse_qs(urlsplit(u).query)["gdzie"][0] for u in homes) and len(set(homes)) > 100
    assert any("q=" in u for u in homes) and any("q=" not in u for u in homes)
    details = traffic.urls("detail", 200)
    assert len(set(details)) > 100 and all(1 <= int(u.rsplit("/", 1)[1]) <= 1000 for u in details)


@pytest.mark.parametrize(("by_workers", "grows"), [({"1": 60.0, "2": 110.0}, True), ({"1": 60.0, "2": 59.0}, False),
                                                    ({"1": 60.0}, False)])
def test_compare_checks_that_throughput_grows_with_workers(by_workers, grows):
    assert _bench_module()._grows(by_workers) is grows


def test_compare_takes_medians_and_sums_errors():
    web = _bench_module()
    runs = [{"n": 1000, "detail_p95_ms": 30.0, "errors": 0, "burst_errors": 1, "map_drawn_by": "markers",
             "throughput_rps_by_workers": {"1": 50.0, "2": 90.0}},
            {"n": 1000, "detail_p95_ms": 90.0, "errors": 2, "burst_errors": 0, "map_drawn_by": "markers",
             "throughput_rps_by_workers": {"1": 70.0, "2": 80.0}},
            {"n": 1000, "detail_p95_ms": 40.0, "errors": 0, "burst_errors": 0, "map_drawn_by": "markers",
             "throughput_rps_by_workers": {"1": 60.0, "2": 100.0}}]
    merged = web._median_figures(runs)
    assert merged["n"] == 1000 and merged["detail_p95_ms"] == 40.0 and merged["runs"] == 3
    assert merged["errors"] == 2 and merged["burst_errors"] == 1 and merged["map_drawn_by"] == "markers"
    assert merged["throughput_rps_by_workers"] == {"1": 60.0, "2": 90.0}
