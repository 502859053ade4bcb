"""Institution -> stable public JSON (English keys) for the API, exports and the HSDS-inspired shape.

The key names here are a public contract: add keys, never rename or remove them.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from catalog.models import FieldProvenance, Institution
from catalog.spreadsheet import safe_row
from catalog.types import PRECISION_LABELS, STATUS_LABELS, Precision, Status, info
from index.api import Hit
from webapp.present import web_url

# Flat columns of the CSV export, in order (nested values are joined with " | ").
CSV_COLUMNS: tuple[str, ...] = (
    "id", "name", "type", "type_label", "operator_name", "operator_krs", "operator_nip", "operator_regon",
    "rjps_id", "krs", "nip", "regon", "register_number",
    "street", "building", "flat", "postal_code", "locality", "address_raw",
    "woj", "powiat", "gmina", "lat", "lon", "precision", "geo_source",
    "phones", "email", "www", "service_tags", "target_groups", "service_area", "partners",
    "status", "valid_from", "valid_until", "decision_number", "decision_date", "source_updated_at",
    "first_seen", "last_seen", "updated_at", "is_demo", "places_total", "places_free", "places_as_of",
)


def iso(value: date | datetime | None) -> str | None:
    """Dates as YYYY-MM-DD; datetimes (UTC in the DB) as ISO 8601 UTC with a Z."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


def _label(labels: dict, enum_cls: type, value: str | None) -> str | None:
    try:
        return labels[enum_cls(value)]
    except ValueError:
        return None


def places_to_dict(inst: Institution) -> dict[str, Any] | None:
    """Places and free places as one dated observation; None when no source gives any of them."""
    if inst.places_total is None and inst.places_free is None and inst.places_as_of is None:
        return None
    return {"total": inst.places_total, "free": inst.places_free, "as_of": iso(inst.places_as_of)}


def institution_to_dict(inst: Institution) -> dict[str, Any]:
    """The public record of one institution."""
    return {
        "id": inst.id,
        "name": inst.name,
        "type": inst.type,
        "type_label": info(inst.type).label,
        "operator": {
            "name": inst.operator_name,
            "krs": inst.operator_krs,
            "nip": inst.operator_nip,
            "regon": inst.operator_regon,
        },
        "identifiers": {
            "rjps_id": inst.rjps_id,
            "krs": inst.krs,
            "nip": inst.nip,
            "regon": inst.regon,
            "register_number": inst.register_number,
        },
        "address": {
            "street": inst.street,
            "building": inst.building,
            "flat": inst.flat,
            "postal_code": inst.postal_code,
            "locality": inst.locality,
            "raw": inst.address_raw,
        },
        "teryt": {"woj": inst.woj_teryt, "powiat": inst.powiat_teryt, "gmina": inst.gmina_id6},
        "location": {
            "lat": inst.lat,
            "lon": inst.lon,
            "precision": inst.geo_precision,
            "precision_label": _label(PRECISION_LABELS, Precision, inst.geo_precision),
            "source": inst.geo_source,
        },
        "phones": [{"raw": p.get("raw"), "e164": p.get("e164")} for p in inst.phones or []],
        "email": inst.email,
        # Only http(s) targets are published: a client that links `www` must never get javascript:.
        "www": web_url(inst.www),
        "service_tags": list(inst.service_tags or []),
        "target_groups": list(inst.target_groups or []),
        "service_area": list(inst.service_area or []),
        "partners": list(inst.partners or []),
        "status": inst.status,
        "status_label": _label(STATUS_LABELS, Status, inst.status),
        "valid_from": iso(inst.valid_from),
        "valid_until": iso(inst.valid_until),
        "decision_number": inst.decision_number,
        "decision_date": iso(inst.decision_date),
        "source_updated_at": iso(inst.source_updated_at),
        "first_seen": iso(inst.first_seen),
        "last_seen": iso(inst.last_seen),
        "updated_at": iso(inst.updated_at),
        "is_demo": bool(inst.is_demo),
        "places": places_to_dict(inst),
    }


def provenance_to_dict(rows: Iterable[FieldProvenance]) -> dict[str, list[dict[str, Any]]]:
    """Per catalog field (model names, e.g. "postal_code"): which source says what now, and since when.
    Superseded rows (values a source no longer gives) are history and left out whatever the caller read."""
    out: dict[str, list[dict[str, Any]]] = {}
    current = (r for r in rows if r.superseded_at is None)
    for row in sorted(current, key=lambda r: (r.field, r.source, r.source_key)):
        out.setdefault(row.field, []).append({
            "source": row.source,
            "source_key": row.source_key,
            "value": _decode(row.value),
            "first_seen": iso(row.first_seen),
            "last_seen": iso(row.last_seen),
            "source_updated_at": iso(row.source_updated_at),
        })
    return out


def _decode(value: str | None) -> Any:
    # Merge stores values JSON-encoded; tolerate plain strings written by older code.
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def _joined(values: Iterable[Any]) -> str:
    return " | ".join(str(v) for v in values if v not in (None, ""))


def institution_to_csv_row(inst: Institution) -> list[Any]:
    """One CSV row in CSV_COLUMNS order."""
    d = institution_to_dict(inst)
    flat = {
        **{k: d[k] for k in ("id", "name", "type", "type_label", "email", "www", "status", "valid_from",
                             "valid_until", "decision_number", "decision_date", "source_updated_at",
                             "first_seen", "last_seen", "updated_at")},
        **{f"operator_{k}": v for k, v in d["operator"].items()},
        **d["identifiers"],
        **{k: v for k, v in d["address"].items() if k != "raw"},
        "address_raw": d["address"]["raw"],
        **d["teryt"],
        "lat": d["location"]["lat"], "lon": d["location"]["lon"],
        "precision": d["location"]["precision"], "geo_source": d["location"]["source"],
        "phones": _joined(p["e164"] or p["raw"] for p in d["phones"]),
        "service_tags": _joined(d["service_tags"]),
        "target_groups": _joined(d["target_groups"]),
        "service_area": _joined(d["service_area"]),
        "partners": _joined(p.get("name") if isinstance(p, dict) else p for p in d["partners"]),
        "is_demo": "1" if d["is_demo"] else "0",
        **{f"places_{k}": (d["places"] or {}).get(k) for k in ("total", "free", "as_of")},
    }
    return [flat[c] if flat[c] is not None else "" for c in CSV_COLUMNS]


def search_item(inst: Institution, hit: Hit) -> dict[str, Any]:
    """One item of /api/institutions: the public record plus the search's distance and score."""
    item = institution_to_dict(inst)
    item["distance_km"] = round(hit.distance_km, 3) if hit.distance_km is not None else None
    item["score"] = hit.score
    return item


def json_line(inst: Institution) -> str:
    """One line of the JSON-lines export."""
    return json.dumps(institution_to_dict(inst), ensure_ascii=False) + "\n"


def csv_header() -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(CSV_COLUMNS)
    # A BOM lets spreadsheet programs read the Polish letters as UTF-8.
    return "\ufeff" + buffer.getvalue()


def csv_line(inst: Institution) -> str:
    """One CSV export line; scraped text stays text in a spreadsheet (catalog/spreadsheet.py)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(safe_row(institution_to_csv_row(inst)))
    return buffer.getvalue()


# Columns a GeoJSON feature needs; selecting only these keeps 10 000 pins cheap.
GEOJSON_COLUMNS = (Institution.id, Institution.name, Institution.type, Institution.lat, Institution.lon,
                   Institution.geo_precision, Institution.locality, Institution.is_demo)


def geojson_feature(row: Any) -> dict[str, Any]:
    """A map feature (a row of GEOJSON_COLUMNS). A demo placeholder's point is its gmina's centre, not an
    address: it says so (`placeholder`, precision "gmina"), so no client draws it as an office."""
    demo = bool(row.is_demo)
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": {"type": "Point", "coordinates": [round(row.lon, 6), round(row.lat, 6)]},
        "properties": {"id": row.id, "name": row.name, "type": row.type, "colour": info(row.type).colour,
                       "precision": Precision.GMINA.value if demo else row.geo_precision,
                       "locality": row.locality, "url": f"/instytucja/{row.id}", "is_demo": demo,
                       "placeholder": demo},
    }
