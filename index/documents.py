"""Institution row -> one engine-neutral index document (analysed terms, filters, stored fields)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.models import Institution
from catalog.types import SERVICE_TAGS, TARGET_GROUPS
from geo.teryt import names_for
from index import analysis
from index.synonyms import type_terms

# The document schema's version, recorded in every generation (index.store). Bump it whenever the
# fields below, IndexDocument or a backend's schema change: a generation with another version is not
# searched (the site answers from the catalog) and the next catch-up rebuilds it.
# tests/index/test_schema_version.py fails until it is bumped. 2: the `places` filter field.
SCHEMA_VERSION = 2

# Text fields and their weights; every backend indexes exactly these, as pre-analysed terms.
TEXT_FIELDS: dict[str, float] = {"name": 3.0, "place": 2.0, "kind": 1.5, "other": 1.0}

# Stored display fields (the contract in docs/ARCHITECTURE.md, `Hit.fields`).
STORED_FIELDS: tuple[str, ...] = (
    "name", "type", "locality", "postal_code", "street", "building", "address_raw", "phones", "email",
    "www", "woj_teryt", "powiat_teryt", "gmina_id6", "lat", "lon", "geo_precision", "status",
    "operator_name", "service_tags", "target_groups",
)

FACET_KEYS: tuple[str, ...] = ("type", "woj", "powiat", "target_group", "status")

# Values of the `places` filter field: the latest observation has free places, has none, or is unknown.
PLACES_FREE, PLACES_FULL, PLACES_UNKNOWN = "free", "full", "unknown"


@dataclass
class IndexDocument:
    id: int
    terms: dict[str, list[str]]        # text field -> analysed terms
    type: str
    woj: str
    powiat: str
    gmina: str
    status: str
    target_groups: list[str]
    sort_name: str
    lat: float | None
    lon: float | None
    stored: dict[str, Any] = field(default_factory=dict)
    words: set[str] = field(default_factory=set)   # original-spelling words, for the fold map
    places: str = PLACES_UNKNOWN                    # PLACES_FREE / PLACES_FULL / PLACES_UNKNOWN


def _join(*parts: Any) -> str:
    return " ".join(str(p) for p in parts if p)


def _name_terms(inst: Institution) -> list[str]:
    terms = analysis.analyze(inst.name)
    abbr = analysis.acronym(inst.name)
    if abbr:
        terms.append(abbr)
    return terms


def _tag_text(codes: list[str] | None, labels: dict[str, str]) -> str:
    """Codes plus their Polish labels, so "niepełnosprawność" or "seniorzy" find tagged units."""
    return " ".join(f"{code} {labels.get(code, '')}" for code in codes or [])


def _places(inst: Institution) -> str:
    if inst.places_free is None:
        return PLACES_UNKNOWN
    return PLACES_FREE if inst.places_free > 0 else PLACES_FULL


def build(inst: Institution) -> IndexDocument:
    """The index document for one institution."""
    places = names_for(inst.gmina_id6, inst.powiat_teryt, inst.woj_teryt)
    place_text = _join(inst.locality, places["gmina"], places["powiat"], places["wojewodztwo"])
    other_text = _join(
        inst.street, inst.address_raw, inst.operator_name, _tag_text(inst.service_tags, SERVICE_TAGS),
        _tag_text(inst.target_groups, TARGET_GROUPS), inst.type_raw,
    )
    postal = (inst.postal_code or "").replace("-", "")
    terms = {
        "name": _name_terms(inst),
        "place": analysis.analyze(place_text),
        "kind": type_terms(inst.type),
        "other": analysis.analyze(other_text) + ([postal] if postal else []),
    }
    stored = {key: getattr(inst, key) for key in STORED_FIELDS}
    stored["place_names"] = places
    return IndexDocument(
        id=int(inst.id),
        terms=terms,
        type=inst.type or "other",
        woj=inst.woj_teryt or "",
        powiat=inst.powiat_teryt or "",
        gmina=inst.gmina_id6 or "",
        status=inst.status or "active",
        target_groups=[g.replace(",", " ").strip() for g in (inst.target_groups or []) if g and g.strip()],
        sort_name=analysis.fold(inst.name or "")[:200],
        lat=inst.lat,
        lon=inst.lon,
        stored=stored,
        words=set(analysis.words(_join(inst.name, place_text, other_text))),
        places=_places(inst),
    )
