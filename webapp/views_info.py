"""Information pages: sources and licences (with "o danych"), and the health check for monitoring."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp import lookup
from webapp import page_queries as pq
from webapp.db import session, settings

bp = Blueprint("info", __name__)

# Reference data shipped with the project (data/*/SOURCE.md): credited on the sources page.
REFERENCE_SOURCES = (
    (_l("TERYT (TERC) — rejestr jednostek podziału terytorialnego"), _l("Główny Urząd Statystyczny"),
     "https://eteryt.stat.gov.pl", _l("dane publiczne; źródło: GUS, TERYT")),
    (_l("PRG — granice gmin, powiatów i województw"), _l("Główny Urząd Geodezji i Kartografii"),
     "https://www.geoportal.gov.pl", _l("dane otwarte; źródło: GUGiK, PRG (uproszczone granice)")),
    (_l("Kody pocztowe — punkty (osobna warstwa)"), _l("projekt countries-states-cities-database"),
     "https://github.com/dr5hn/countries-states-cities-database", _l("ODbL 1.0; © countries-states-cities-database")),
    (_l("Kody pocztowe × gminy (z punktów adresowych PRG)"), _l("GUGiK; opracowanie GML22/PostCodesMaps (MIT)"),
     "https://www.geoportal.gov.pl", _l("dane otwarte; źródło: GUGiK, PRG")),
    (_l("PRNG — państwowy rejestr nazw geograficznych"), _l("Główny Urząd Geodezji i Kartografii"),
     "https://www.geoportal.gov.pl", _l("CC BY 4.0; źródło: GUGiK, PRNG")),
    (_l("GeoNames — miejscowości powyżej 500 mieszkańców"), _l("GeoNames"), "https://www.geonames.org",
     _l("CC BY 4.0; © GeoNames")),
    (_l("Podkład mapy"), _l("współtwórcy OpenStreetMap"), "https://www.openstreetmap.org/copyright",
     _l("ODbL 1.0; kafelki © współtwórcy OpenStreetMap")),
)


def sources_page():
    return render_template("sources.html", sources=pq.sources_overview(session()), reference=REFERENCE_SOURCES)


# A degraded run kept old values instead of applying mass removals: the source needs a look as much as
# a failed one does, so monitoring sees both.
RUN_NEEDS_ATTENTION = frozenset({"failed", "interrupted", "degraded"})


def _utc(value):
    """Stored naive-UTC or aware: ISO 8601 with one "Z", never "+00:00Z"."""
    if value is None:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


def _index_sync(s) -> dict:
    """This node's index against the shared catalog (index.follow): "ok" when level; "catching-up" when
    behind and this node follows the catalog (`wsparcie serve`); "behind" when it does not, or its last
    catch-up failed; "no-index" when no generation is published; "unknown" when the index dir cannot
    be read."""
    from index.follow import sync_state
    from webapp import FOLLOWER

    follower = current_app.extensions.get(FOLLOWER)
    try:
        sync = sync_state(settings(), s)
    except SQLAlchemyError:
        raise
    except (OSError, ValueError) as error:  # an unreadable index dir or bad SEARCH_BACKEND: reported
        return {"status": "unknown", "error": f"{type(error).__name__}: {error}", "following": follower is not None}
    if sync.level:
        status = "ok"
    elif sync.generation is None:
        status = "no-index"
    elif follower is not None and follower.last_error is None:
        status = "catching-up"
    else:
        status = "behind"
    out = {
        "status": status, "behind": sync.behind, "generation": sync.generation, "indexed": sync.indexed,
        "index_high_water": _utc(sync.high_water), "catalog": sync.catalog,
        "catalog_updated_at": _utc(sync.catalog_updated_at), "following": follower is not None,
    }
    if follower is not None:
        out["last_check_at"] = (None if follower.last_round is None
                                else _utc(datetime.fromtimestamp(follower.last_round, UTC)))
        out["error"] = follower.last_error
    return out


def health():
    """For the operator and monitoring: 200 when the catalog and the search index answer (and the index
    is level with the catalog, or this node is catching up by itself), else 503 with the reason (a site
    without its index still serves pages, in the degraded mode). JSON, or a page when a browser asks."""
    utc = _utc
    problem = lookup.index_problem(settings())
    out: dict = {"database": False, "index": problem is None, "sources": []}
    if problem is not None:
        out["index_error"] = problem
    try:
        s = session()
        s.exec(text("SELECT 1"))
        out["database"] = True
        for src, run, count in pq.sources_overview(s):
            out["sources"].append({
                "key": src.key, "records": count,
                "last_success_at": utc(src.last_success_at),
                "last_run": None if run is None else {
                    "status": run.status, "started_at": utc(run.started_at),
                    "errors": run.n_errors, "failed": run.status in RUN_NEEDS_ATTENTION},
            })
        out["index_sync"] = _index_sync(s)
    except SQLAlchemyError as exc:  # the health page reports the failure instead of raising it
        out["error"] = type(exc).__name__
    sync_status = out.get("index_sync", {}).get("status")
    out["ok"] = out["database"] and out["index"] and sync_status in ("ok", "catching-up")
    status = 200 if out["ok"] else 503
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        return render_template("health.html", health=out), status
    return jsonify(out), status


bp.add_url_rule("/zrodla", "sources", sources_page)
bp.add_url_rule("/o-danych", "about", lambda: redirect(url_for("info.sources") + "#o-danych"))
bp.add_url_rule("/zdrowie", "health", health)
bp.add_url_rule("/health", "health_en", health)
