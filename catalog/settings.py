"""Settings from environment variables, read once per process (or per test via `load`)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DATA_DIR = REPO_ROOT / "data"

DEFAULT_USER_AGENT = (
    "MapaWsparcia/0.1 (+https://github.com/mapa-wsparcia; directory of Polish social-support institutions)"
)


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    index_dir: Path
    captures_dir: Path
    source_base_urls: dict[str, str] = field(default_factory=dict)
    # Seconds between requests to one host; 0 turns politeness delays off (replays, tests).
    rate_limits: dict[str, float] = field(default_factory=dict)
    http_timeout: float = 30.0
    http_retries: int = 4
    user_agent: str = DEFAULT_USER_AGENT
    missing_runs_threshold: int = 3
    # Degraded-run guard (catalog.merge): a field this source gave for at least degraded_min_units of the
    # units it lists again, gone from more than degraded_share of them in one run, is not removed.
    degraded_min_units: int = 5
    degraded_share: float = 0.3
    geocoder: str = "offline"
    nominatim_url: str = "https://nominatim.openstreetmap.org"
    search_backend: str = ""
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
    secret_key: str = ""
    # A file holding the secret key (SECRET_KEY_FILE): how several nodes share one without putting it in
    # their environment (a mounted secret). SECRET_KEY wins when both are set.
    secret_key_file: Path | None = None
    # Input limits (scrapers.http): bytes on the wire, bytes after gzip/deflate decoding, wall-clock
    # seconds for one request including its retries, the longest Retry-After pause we honour.
    http_max_response_bytes: int = 32 * 1024 * 1024
    http_max_decoded_bytes: int = 64 * 1024 * 1024
    http_request_deadline: float = 90.0
    http_retry_after_max: float = 30.0
    # After this many consecutive failed requests to one host a source run stops asking it.
    http_host_failure_limit: int = 5
    # Wall-clock seconds for one source run (fetch); per source via <SOURCE>_RUN_DEADLINE; 0 = none.
    source_run_deadline: float = 4 * 3600.0
    run_deadlines: dict[str, float] = field(default_factory=dict)
    # Seconds a pipeline stage (geo, index) waits for another process running the same stage.
    stage_lock_wait: float = 600.0
    # Seconds between a web node's checks that its search index is level with the shared catalog
    # (index.follow; `wsparcie serve` only); 0 turns following off.
    index_follow_interval: float = 10.0

    def base_url(self, source: str) -> str:
        return self.source_base_urls[source].rstrip("/")

    def rate_limit(self, source: str) -> float:
        # Env names cannot hold "-": CIS_KIS_20_RATE_LIMIT configures source "cis-kis-20".
        return self.rate_limits.get(source, self.rate_limits.get(source.replace("-", "_"), 1.0))

    def run_deadline(self, source: str) -> float | None:
        """Seconds a run of `source` may take, or None for no limit (<SOURCE>_RUN_DEADLINE=0)."""
        seconds = self.run_deadlines.get(source, self.run_deadlines.get(source.replace("-", "_"),
                                                                        self.source_run_deadline))
        return seconds if seconds > 0 else None


# Public hosts as of 2026 (REGISTRIES.md); override per source with <SOURCE>_BASE_URL.
DEFAULT_BASE_URLS = {
    "rjps": "https://rjps.mrpips.gov.pl",
    "owes": "https://wykazowes.ekonomiaspoleczna.gov.pl",
    "pup": "https://psz.praca.gov.pl",
}


def expected_min(source: str, default: int) -> int:
    """<SOURCE>_EXPECTED_MIN: the smallest complete listing trusted as the whole register (tests and demos
    lower it). A smaller listing is treated as a broken source, never as mass closures."""
    raw = os.environ.get(f"{source.upper().replace('-', '_')}_EXPECTED_MIN", "").strip()
    return int(raw) if raw else default


def load() -> Settings:
    data_dir = Path(os.environ.get("WSPARCIE_DATA_DIR") or REPO_ROOT / "var").resolve()
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'wsparcie.db'}"
    index_dir = Path(os.environ.get("INDEX_DIR") or data_dir / "index").resolve()
    base_urls = {
        key: os.environ.get(f"{key.upper()}_BASE_URL") or url for key, url in DEFAULT_BASE_URLS.items()
    }
    # Any other <NAME>_BASE_URL (e.g. CIS_KIS_02_BASE_URL) is picked up for adapters added later.
    for name, value in os.environ.items():
        if name.endswith("_BASE_URL") and value:
            base_urls.setdefault(name[: -len("_BASE_URL")].lower(), value)
    rate_limits = {}
    for name, value in os.environ.items():
        if name.endswith("_RATE_LIMIT") and value.strip():
            rate_limits[name[: -len("_RATE_LIMIT")].lower()] = float(value)
    run_deadlines = {
        name[: -len("_RUN_DEADLINE")].lower(): float(value) for name, value in os.environ.items()
        if name.endswith("_RUN_DEADLINE") and name != "SOURCE_RUN_DEADLINE" and value.strip()
    }
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        index_dir=index_dir,
        captures_dir=data_dir / "captures",
        source_base_urls=base_urls,
        rate_limits=rate_limits,
        http_timeout=_float("HTTP_TIMEOUT", 30.0),
        http_retries=_int("HTTP_RETRIES", 4),
        user_agent=os.environ.get("WSPARCIE_USER_AGENT") or DEFAULT_USER_AGENT,
        missing_runs_threshold=_int("MISSING_RUNS_THRESHOLD", 3),
        degraded_min_units=_int("DEGRADED_MIN_UNITS", 5),
        degraded_share=_float("DEGRADED_SHARE", 0.3),
        geocoder=os.environ.get("GEOCODER", "offline"),
        nominatim_url=os.environ.get("NOMINATIM_URL", "https://nominatim.openstreetmap.org"),
        search_backend=os.environ.get("SEARCH_BACKEND", ""),
        tile_url=os.environ.get("TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
        secret_key=os.environ.get("SECRET_KEY", ""),
        secret_key_file=Path(os.environ["SECRET_KEY_FILE"]) if os.environ.get("SECRET_KEY_FILE") else None,
        http_max_response_bytes=_int("HTTP_MAX_RESPONSE_BYTES", 32 * 1024 * 1024),
        http_max_decoded_bytes=_int("HTTP_MAX_DECODED_BYTES", 64 * 1024 * 1024),
        http_request_deadline=_float("HTTP_REQUEST_DEADLINE", 90.0),
        http_retry_after_max=_float("HTTP_RETRY_AFTER_MAX", 30.0),
        http_host_failure_limit=_int("HTTP_HOST_FAILURE_LIMIT", 5),
        source_run_deadline=_float("SOURCE_RUN_DEADLINE", 4 * 3600.0),
        run_deadlines=run_deadlines,
        stage_lock_wait=_float("STAGE_LOCK_WAIT", 600.0),
        index_follow_interval=_float("INDEX_FOLLOW_INTERVAL", 10.0),
    )
