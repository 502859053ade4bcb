"""The bundled demo snapshot for an offline first run.

It is built from real data only: the real RJPS captures replayed through the real RJPS adapter
(data/demo/rjps-replay); the real official documents of the wojewodas bundled in data/registries/real/
(OPS of Śląskie, DPS of four voivodeships, ŚDS of Małopolska and Podkarpacie, the Małopolska
violence-support base), each imported as a run of its configured source exactly as
`wsparcie import-document` does; plus one clearly labelled placeholder per gmina (its OPS) and per powiat
(its PCPR and PUP) that no real record covers, placed at the TERYT unit's reference point, with no
contact data at all. Placeholders
come from the "demo" source; once a live source delivers real institutions of a type, the placeholders
of that type are removed (they never carried data worth keeping)."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlmodel import func, select

from catalog.db import session_scope, upgrade
from catalog.derived import remove_placeholders
from catalog.models import Institution
from catalog.records import FetchResult, SourceItem
from catalog.settings import REFERENCE_DATA_DIR, Settings
from catalog.types import InstitutionType, Precision
from geo import teryt
from orchestration import pipeline
from scrapers.base import SourceMeta
from scrapers.official_list_config import CONFIGS as LIST_CONFIGS
from scrapers.official_list_config import ListConfig

log = logging.getLogger(__name__)

DEMO_DIR = REFERENCE_DATA_DIR / "demo"
RJPS_REPLAY_DIR = DEMO_DIR / "rjps-replay"
REAL_DIR = REFERENCE_DATA_DIR / "registries" / "real"
DEMO_NOTE = ("Rekord demonstracyjny: miejsce na prawdziwe dane z rejestru. Nie zawiera danych kontaktowych; "
             "punkt na mapie to punkt odniesienia jednostki terytorialnej, nie adres urzędu.")

DEMO_META = SourceMeta(
    key="demo",
    name="Dane demonstracyjne (jednostki TERYT)",
    url="https://eteryt.stat.gov.pl/",
    licence="TERYT: GUS (ponowne wykorzystanie z podaniem źródła); granice: PRG (GUGiK)",
    attribution="Źródło: GUS, rejestr TERYT; punkty odniesienia gmin z granic PRG (GUGiK)",
    expected_min=1,
)


@dataclass
class DemoLoad:
    ok: bool = True
    skipped: str | None = None
    summaries: list[pipeline.RunSummary] = field(default_factory=list)

    def describe(self) -> str:
        if self.skipped:
            return f"demo: {self.skipped}"
        lines = [f"demo: {s.source}: {s.status}, {s.n_new} new, {s.n_changed} changed"
                 + (f" — {s.message}" if s.message else "") for s in self.summaries]
        return "\n".join(lines) or "demo: nothing loaded"


class DemoAdapter:
    """Placeholders for units the catalog does not cover yet: an OPS per gmina, PCPR and PUP per powiat."""

    meta = DEMO_META

    def __init__(self, covered: dict[str, set[str]]) -> None:
        # type code -> TERYT units (gmina id6 for OPS, powiat code for PCPR/PUP) already covered by real data
        self.covered = covered

    def fetch(self, client, settings: Settings) -> FetchResult:
        items = [*self._gmina_items(), *self._powiat_items()]
        return FetchResult(items=items, listed_keys={i.source_key for i in items}, complete=True)

    def _gmina_items(self) -> list[SourceItem]:
        items = []
        for g in teryt.gminy():
            if g.id6 in self.covered.get(InstitutionType.OPS.value, set()):
                continue
            items.append(_item(
                f"ops-{g.id6}", InstitutionType.OPS, f"Ośrodek pomocy społecznej — gmina {g.name}",
                g.woj_code, g.powiat_code, g.id6, _gmina_point(g), Precision.GMINA,
            ))
        return items

    def _powiat_items(self) -> list[SourceItem]:
        items = []
        for p in teryt.powiaty():
            point = _powiat_point(p.code)
            where = p.name if p.city_with_powiat_rights else f"powiat {p.name}"
            # In a city with powiat rights the city's MOPS/MOPR does the PCPR's work: no separate PCPR.
            if not p.city_with_powiat_rights and p.code not in self.covered.get("pcpr", set()):
                items.append(_item(f"pcpr-{p.code}", InstitutionType.PCPR,
                                   f"Powiatowe centrum pomocy rodzinie — {where}",
                                   p.woj_code, p.code, None, point, Precision.POWIAT))
            if p.code not in self.covered.get("pup", set()):
                items.append(_item(f"pup-{p.code}", InstitutionType.PUP, f"Powiatowy urząd pracy — {where}",
                                   p.woj_code, p.code, None, point, Precision.POWIAT, service_area=[p.code]))
        return items


def _item(key: str, type_: InstitutionType, name: str, woj: str, powiat: str, gmina: str | None,
          point: tuple[float, float] | None, precision: Precision, service_area: list[str] | None = None,
          ) -> SourceItem:
    fields = {
        "name": f"{name} (rekord demonstracyjny)", "type": type_.value,
        "woj_teryt": woj, "powiat_teryt": powiat, "gmina_id6": gmina,
        "service_area": service_area or [], "notes": DEMO_NOTE,
    }
    if point:
        fields.update(lat=point[0], lon=point[1], geo_precision=precision.value, geo_source="demo:teryt-point")
    return SourceItem(source="demo", source_key=key, fields=fields, raw={"teryt": gmina or powiat})


def _gmina_point(g: teryt.Gmina) -> tuple[float, float] | None:
    if g.lat is not None:
        return g.lat, g.lon
    # Gminy created after 2019 have no polygon: fall back to their powiat's point.
    return _powiat_point(g.powiat_code)


def _powiat_point(code: str) -> tuple[float, float] | None:
    from geo.enrich import powiat_point

    return powiat_point(code)


def _real_units(session) -> dict[tuple[str, str], int]:
    """(type, TERYT unit) -> a real (non-demo) institution covering it: an OPS/CUS its gmina, a PCPR or
    PUP its powiat and the powiaty it serves."""
    rows = session.exec(
        select(Institution.id, Institution.type, Institution.gmina_id6, Institution.powiat_teryt,
               Institution.service_area)
        .where(Institution.is_demo == False, Institution.type.in_(("ops", "cus", "pcpr", "pup")))
        .order_by(Institution.id)
    ).all()
    units: dict[tuple[str, str], int] = {}
    for inst_id, type_, gmina, powiat, area in rows:
        if type_ in ("ops", "cus"):
            if gmina:
                units.setdefault(("ops", gmina), inst_id)
            continue
        for code in [powiat, *(a for a in (area or []) if len(a) == 4)]:
            if code:
                units.setdefault((type_, code), inst_id)
    return units


def _covered(settings: Settings) -> dict[str, set[str]]:
    """TERYT units that already have a real (non-demo) OPS/CUS, PCPR or PUP in the catalog."""
    covered: dict[str, set[str]] = {"ops": set(), "pcpr": set(), "pup": set()}
    with session_scope(settings.database_url) as session:
        for type_, unit in _real_units(session):
            covered[type_].add(unit)
    return covered


def replace_covered_placeholders(session) -> list[int]:
    """Remove the placeholders whose own unit a real institution of their type now covers (an OPS
    placeholder its gmina, a PCPR/PUP placeholder its powiat) — never by how many records a source brought,
    so a regional list replaces the placeholders of its region only. Returns the removed ids."""
    units = _real_units(session)
    replaced: dict[int, int] = {}
    for inst_id, type_, gmina, powiat in session.exec(
            select(Institution.id, Institution.type, Institution.gmina_id6, Institution.powiat_teryt)
            .where(Institution.is_demo == True)).all():
        real = units.get((type_, gmina if type_ == "ops" else powiat))
        if real is not None:
            replaced[inst_id] = real
    removed = remove_placeholders(session, replaced)
    if removed:
        log.info("replaced %d demo placeholders with real records covering their units", len(removed))
    return removed


def load_demo(settings: Settings, only_if_empty: bool = True) -> DemoLoad:
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        count = session.exec(select(func.count()).select_from(Institution)).one()
    if only_if_empty and count:
        return DemoLoad(skipped=f"catalog already holds {count} institutions; demo snapshot not loaded")
    result = DemoLoad()
    with pipeline.ingest_lock(settings):
        rjps = _rjps_replay_adapter()
        if rjps is not None:
            result.summaries.append(pipeline.run_adapter(settings, rjps))
            # Their gminy must be known before placeholders are made for the gminy without a real OPS.
            pipeline.later_stages(settings, sorted(result.summaries[-1].touched_ids), result.summaries,
                                  stages=("geo",))
        documents = load_bundled_documents(settings)
        result.summaries.extend(documents)
        # Their gminy must be known before placeholders are made for the gminy without a real OPS.
        pipeline.later_stages(settings, sorted(set().union(*(s.touched_ids for s in documents))),
                              result.summaries, stages=("geo",))
        summary = pipeline.run_adapter(settings, DemoAdapter(_covered(settings)))
        result.summaries.append(summary)
        pipeline.later_stages(settings, None, result.summaries)
    result.ok = all(s.ok for s in result.summaries)
    return result


def bundled_documents() -> list[tuple[ListConfig, Path]]:
    """The real official documents bundled in data/registries/real/, in import order (oldest first)."""
    return [(cfg, REAL_DIR / rel) for cfg in LIST_CONFIGS.values() for rel in cfg.bundled
            if (REAL_DIR / rel).exists()]


def load_bundled_documents(settings: Settings) -> list[pipeline.RunSummary]:
    """Import every bundled document as a run of its configured source, through the same path as
    `wsparcie import-document` (the caller holds the ingest lock). The provenance URL is the office's
    document URL where it was recorded with the file, else the bundled copy itself."""
    from orchestration.import_document import run_document

    summaries = []
    for cfg, path in bundled_documents():
        url = cfg.url if cfg.verified and cfg.document_paths else path.resolve().as_uri()
        summary = run_document(settings, path.read_bytes(), path.name, cfg.kind, cfg.key, url)
        if not summary.ok:
            log.warning("demo: %s (%s): %s", cfg.key, path.name, summary.message)
        summaries.append(summary)
    return summaries


def _rjps_replay_adapter():
    if not (RJPS_REPLAY_DIR / "manifest.json").exists():
        log.warning("demo: %s missing, RJPS sample units not loaded", RJPS_REPLAY_DIR)
        return None
    from scrapers.rjps import RjpsAdapter

    return _SampleOnly(RjpsAdapter(expected_min=1, replay_dir=RJPS_REPLAY_DIR))


class _SampleOnly:
    """A replayed sample is not the whole register: its absences must never count as closures
    (loading the demo over live RJPS data would otherwise mark every other unit missing)."""

    def __init__(self, adapter) -> None:
        self.adapter, self.meta, self.replay_dir = adapter, adapter.meta, adapter.replay_dir

    def fetch(self, client, settings: Settings) -> FetchResult:
        result = self.adapter.fetch(client, settings)
        result.complete = False
        return result


def registries_reachable(settings: Settings, timeout: float = 4.0) -> bool:
    try:
        httpx.head(settings.base_url("rjps"), timeout=timeout, follow_redirects=True,
                   headers={"User-Agent": settings.user_agent})
        return True
    except httpx.HTTPError:
        return False


def start_background_ingest(settings: Settings) -> subprocess.Popen | None:
    """With internet, replace the demo with live data without delaying the site: ingest in the background."""
    if not registries_reachable(settings):
        log.info("registries unreachable: serving the demo snapshot (offline)")
        return None
    log_path = settings.data_dir / "ingest.log"
    log.info("registries reachable: live ingest started in the background (log: %s)", log_path)
    with open(log_path, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "ingest", "--no-progress"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=dict(os.environ),
        )


def demo_dir() -> Path:
    return DEMO_DIR
