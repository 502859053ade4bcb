"""RJPS (Rejestr Jednostek Polityki Społecznej): the national backbone source.

Two endpoints (REGISTRIES.md §1.3): a POST listing of every unit (id + lon/lat) and a GET HTML list
fragment per unit. The fragment is parsed by its stable Polish `title` attributes, never by layout classes.
The same listing filtered by RJPS's sub-categories (scrapers/rjps_taxonomy.py) gives each unit's target
groups and service kinds: 8 + 6 extra POSTs per run.

A failed taxonomy request leaves that dimension (target_groups or service_tags) incomplete for every unit:
the run records an error (status "partial") and marks the dimension as not observed
(SourceItem.keep_fields), so the merge keeps the previous run's values instead of clearing them.
"""
from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from lxml import etree
from lxml.etree import _Element

from catalog.address import parse_address
from catalog.records import FetchResult, SourceItem
from catalog.settings import REPO_ROOT, Settings, expected_min
from catalog.types import InstitutionType, type_from_label
from scrapers.base import SourceMeta
from scrapers.http import FetchError, HttpClient, Response, json_body
from scrapers.replay import ReplayWriter
from scrapers.rjps_taxonomy import taxonomy_requests

log = logging.getLogger(__name__)

LISTING_PATH = "/RJPS/WJ/wyszukiwanie/zaladujDane.do"
FRAGMENT_PATH = "/RJPS/WJ/wyszukiwanie/pobierzDaneJednostki.do"
LISTING_PAYLOAD = {"filtry": {}}   # no filters: every unit in Poland in one answer
START_URL = "https://rjps.mrpips.gov.pl/RJPS/WJ/start.do?wersja=1"
DEMO_REPLAY_DIR = REPO_ROOT / "data" / "demo" / "rjps-replay"
DEFAULT_EXPECTED_MIN = 1000   # the 2022 snapshot listed 2,801 units; far fewer means a broken answer

# Poland's bounding box with a small margin (lon 14.12–24.15, lat 49.00–54.84).
LON_RANGE = (14.0, 24.3)
LAT_RANGE = (48.9, 55.0)

# data-typ-id values seen in real captures; used only when the "Typ jednostki" label says nothing known.
KNOWN_TYPE_IDS = {"5": InstitutionType.OPS}

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def expected_min_setting() -> int:
    """RJPS_EXPECTED_MIN from the environment (tests and the demo set it low)."""
    return expected_min("rjps", DEFAULT_EXPECTED_MIN)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


# -- listing ------------------------------------------------------------------------------------


class ListingError(ValueError):
    """The listing is not the JSON array of {id, x, y} the map endpoint returns."""


def parse_listing(data: Any) -> tuple[dict[str, tuple[float, float] | None], list[dict[str, str]]]:
    """Listing JSON -> ({id: (lat, lon) or None}, errors). Raises ListingError for garbage."""
    if not isinstance(data, list):
        raise ListingError(f"listing is a JSON {type(data).__name__}, expected an array")
    units: dict[str, tuple[float, float] | None] = {}
    errors: list[dict[str, str]] = []
    bad = 0
    for position, entry in enumerate(data):
        unit_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(unit_id, int) or isinstance(unit_id, bool) or unit_id <= 0:
            bad += 1
            continue
        key = str(unit_id)
        if key in units:
            continue
        units[key] = _coords(entry)
        if units[key] is None:
            errors.append({"where": f"RJPS unit {key}",
                           "message": f"listing entry {position} has no usable coordinates"})
    if bad > max(10, len(data) // 10):
        raise ListingError(f"{bad} of {len(data)} listing entries have no integer id")
    if bad:
        errors.append({"where": "RJPS listing", "message": f"{bad} entries without an integer id skipped"})
    return units, errors


def _coords(entry: dict) -> tuple[float, float] | None:
    lon, lat = entry.get("x"), entry.get("y")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lon, lat)):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    if not (LON_RANGE[0] <= lon <= LON_RANGE[1] and LAT_RANGE[0] <= lat <= LAT_RANGE[1]):
        return None
    return float(lat), float(lon)


# -- fragment -----------------------------------------------------------------------------------
# Parsed with lxml.html directly (the fragment is parsed once per unit; BeautifulSoup on top of the same
# lxml parser cost ~25x more). Only text leaves the parser: element text as BeautifulSoup's get_text gives it
# (no comments, no script/style/template content), attribute values through .get(); never markup.

_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=False, no_network=True)
_UNITS = etree.XPath("//div[@data-id and contains(concat(' ', normalize-space(@class), ' '), ' jednostka ')]")
_TEXT = etree.XPath("descendant::text()[not(ancestor::script or ancestor::style or ancestor::template)]")
_TITLED = etree.XPath("descendant::*[@title = $title][1]")
_DATES = etree.XPath(
    "descendant::*[contains(concat(' ', normalize-space(@class), ' '), ' data-aktualizacji ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' data-aktualizacji-mobile ')]")


def parse_fragment(html: str | bytes) -> list[dict[str, Any]]:
    """Every unit (div.jednostka[data-id]) in a list fragment, as raw strings + the parsed date."""
    if isinstance(html, str):
        data = html.encode("utf-8", "replace")
    else:
        try:   # RJPS answers UTF-8; anything else is decoded by sniffing (bs4's UnicodeDammit) first
            html.decode("utf-8")
            data = html
        except UnicodeDecodeError:
            from bs4 import UnicodeDammit

            data = (UnicodeDammit(html).unicode_markup or "").encode("utf-8", "replace")
    root = etree.fromstring(data, _PARSER) if data.strip() else None
    if root is None:
        return []
    return [_parse_unit(node) for node in _UNITS(root)]


def _text(node: _Element) -> str:
    return " ".join(_TEXT(node))


def _classes(node: _Element) -> list[str]:
    return (node.get("class") or "").split()


def _titled(node: _Element, title: str) -> _Element | None:
    found = _TITLED(node, title=title)
    return found[0] if found else None


def _parse_unit(node: _Element) -> dict[str, Any]:
    name_node = _titled(node, "Nazwa jednostki")
    type_node = _titled(node, "Typ jednostki")
    unit: dict[str, Any] = {
        "id": _clean(node.get("data-id")),
        "type_id": _clean(node.get("data-typ-id")) or None,
        "name": _clean(_text(name_node)) if name_node is not None else "",
        "type_label": _clean(_text(type_node)) if type_node is not None else "",
        "address_lines": _address_lines(node),
        "email": _linked_text(node, "Email", "mailto:"),
        "phone_text": _phone_text(node),
        "www": _linked_text(node, "Strona www", None),
    }
    unit["updated_text"], unit["updated"] = _update_date(node)
    return unit


def _address_lines(node: _Element) -> list[str]:
    block = _titled(node, "Adres")
    if block is None:
        return []
    # The text spans sit in the flex-column; the icon's <span class="fa-stack"> is not address text.
    spans = [s for s in block.iterdescendants("span") if not any(c.startswith("fa") for c in _classes(s))]
    return [_clean(_text(s)) for s in spans]


def _linked_text(node: _Element, title: str, href_prefix: str | None) -> str | None:
    block = _titled(node, title)
    if block is None:
        return None
    text = _clean(_text(block))
    if not text:
        link = next(block.iterancestors("a"), None)
        href = _clean(link.get("href")) if link is not None else ""
        text = href[len(href_prefix):] if href_prefix and href.startswith(href_prefix) else href
    return text or None


def _phone_text(node: _Element) -> str | None:
    block = _titled(node, "Telefon")
    if block is None:
        return None
    span = next((s for s in block.iterdescendants("span") if "wrap-anywhere" in _classes(s)), None)
    text = _clean(_text(span if span is not None else block))
    return text or None


def _update_date(node: _Element) -> tuple[str | None, date | None]:
    # The date is printed twice (mobile and desktop blocks); the first parsable one wins.
    for block in _DATES(node):
        text = _clean(_text(block))
        match = _DATE.search(text)
        if match:
            try:
                return text, date(*(int(g) for g in match.groups()))
            except ValueError:
                continue
    return None, None


# -- address ------------------------------------------------------------------------------------


def split_address(line1: str, line2: str) -> dict[str, str]:
    """'16-060 Zabłudów' + 'ul. Rynek 8' -> postal_code, locality, street, building (+ flat), through the
    project's one Polish address parser (catalog.address)."""
    line1, line2 = _clean(line1), _clean(line2)
    parsed = parse_address(", ".join(p for p in (line2, line1) if p))
    return {k: v for k in ("postal_code", "locality", "street", "building", "flat")
            if (v := getattr(parsed, k))}


# -- items --------------------------------------------------------------------------------------


def unit_to_item(unit: dict[str, Any], coords: tuple[float, float] | None,
                 capture_id: int | None) -> SourceItem:
    """One parsed fragment unit (+ its listing point) -> SourceItem; missing values are left out."""
    lines = (unit["address_lines"] + ["", ""])[:2]
    label = unit["type_label"] or None
    type_ = type_from_label(label)
    if type_ is InstitutionType.OTHER:
        type_ = KNOWN_TYPE_IDS.get(unit["type_id"] or "", type_)
    fields: dict[str, Any] = {
        "name": unit["name"] or None,
        "type": type_.value,
        "type_raw": label,
        "rjps_id": unit["id"],
        **split_address(*lines),
        "address_raw": ", ".join(line for line in lines if line) or None,
        "email": unit["email"],
        "www": unit["www"],
        "source_updated_at": unit["updated"],
    }
    if unit["phone_text"]:
        fields["phones_raw"] = unit["phone_text"]   # split and E.164 by catalog.normalise
    if coords is not None:
        fields.update(lat=coords[0], lon=coords[1], geo_precision="source", geo_source="rjps")
    raw = {
        "name": unit["name"], "type_label": unit["type_label"], "data_typ_id": unit["type_id"],
        "address_1": lines[0], "address_2": lines[1], "phone": unit["phone_text"],
        "email": unit["email"], "www": unit["www"], "updated": unit["updated_text"],
    }
    return SourceItem(
        source="rjps", source_key=unit["id"],
        fields={k: v for k, v in fields.items() if v is not None},
        raw={k: v for k, v in raw.items() if v is not None},
        capture_id=capture_id, source_updated_at=unit["updated"],
    )


# -- taxonomy -----------------------------------------------------------------------------------

Members = dict[tuple[str, str], set[str]]   # (dimension, code) -> unit ids in that filtered listing
TAG_FIELDS = ("target_groups", "service_tags")


def taxonomy_payload(ids: str) -> dict[str, Any]:
    return {"filtry": {"podkategorie": ids}}


def tag_items(items: list[SourceItem], members: Members, unobserved: frozenset[str]) -> None:
    """Set sorted tag codes per unit (an empty list = observed, none); a dimension with a failed request
    is left out and marked not observed, so the merge keeps its previous values."""
    for item in items:
        for dimension in TAG_FIELDS:
            if dimension in unobserved:
                item.fields.pop(dimension, None)
                continue
            item.fields[dimension] = sorted(code for (dim, code), ids in members.items()
                                            if dim == dimension and item.source_key in ids)
        item.keep_fields = unobserved


# -- adapter ------------------------------------------------------------------------------------


class RjpsAdapter:
    """fetch(): one listing request, then one fragment request per unit (or per batch of units)."""

    def __init__(self, expected_min: int | None = None, batch_size: int = 1,
                 progress: Callable[[int, int], None] | None = None,
                 replay_dir: str | Path | None = None) -> None:
        """batch_size > 1 asks for several ids per fragment request (the parameter is plural; untested live).
        replay_dir: the pipeline builds its HttpClient in replay mode over this directory."""
        self.meta = SourceMeta(
            key="rjps",
            name="RJPS — Rejestr Jednostek Polityki Społecznej",
            url=START_URL,
            licence="Informacja publiczna (dane z rejestru prowadzonego przez ministerstwo)",
            attribution="Źródło: Rejestr Jednostek Polityki Społecznej (RJPS), "
                        "Ministerstwo Rodziny, Pracy i Polityki Społecznej",
            expected_min=expected_min if expected_min is not None else expected_min_setting(),
        )
        self.batch_size = max(1, batch_size)
        self.progress = progress
        self.replay_dir = replay_dir

    def fetch(self, client: HttpClient, settings: Settings,
              progress: Callable[[int, int], None] | None = None) -> FetchResult:
        base = settings.base_url("rjps")
        result = FetchResult()
        try:
            units = self.fetch_listing(client, base, result)
        except (FetchError, ListingError) as exc:
            result.fatal = f"RJPS listing unusable: {exc}"
            return result
        result.listed_keys = set(units)
        if len(units) < self.meta.expected_min:
            result.fatal = f"only {len(units)} units, expected at least {self.meta.expected_min}"
            return result
        result.complete = True
        members, unobserved = self.fetch_taxonomy(client, base, result)
        self._fetch_units(client, base, units, result, progress or self.progress)
        tag_items(result.items, members, unobserved)
        return result

    def fetch_taxonomy(self, client: HttpClient, base: str,
                       result: FetchResult) -> tuple[Members, frozenset[str]]:
        """One filtered listing per target group and per service kind -> ({(dimension, code): ids},
        dimensions with a failed request). Failures become error entries, never a fatal run."""
        members: Members = {}
        failed: set[str] = set()
        for dimension, code, ids in taxonomy_requests():
            try:
                members[(dimension, code)] = self._filtered_ids(client, base, ids)
            except (FetchError, ListingError) as exc:
                failed.add(dimension)
                reason = exc.reason if isinstance(exc, FetchError) else str(exc)
                result.errors.append({"where": f"RJPS filtr {dimension}={code} (podkategorie {ids})",
                                      "message": reason})
        return members, frozenset(failed)

    @staticmethod
    def _filtered_ids(client: HttpClient, base: str, ids: str) -> set[str]:
        response = client.post_json(base + LISTING_PATH, taxonomy_payload(ids),
                                    headers={"X-Requested-With": "XMLHttpRequest"})
        try:
            data = response.json()
        except ValueError as exc:
            raise ListingError(f"not JSON ({exc})") from exc
        if not isinstance(data, list):
            raise ListingError(f"filtered listing is a JSON {type(data).__name__}, expected an array")
        # An empty array is a valid answer: no unit offers these services.
        return {str(e["id"]) for e in data if isinstance(e, dict) and isinstance(e.get("id"), int)}

    def fetch_listing(self, client: HttpClient, base: str,
                      result: FetchResult) -> dict[str, tuple[float, float] | None]:
        response = client.post_json(base + LISTING_PATH, LISTING_PAYLOAD,
                                    headers={"X-Requested-With": "XMLHttpRequest"})
        try:
            data = response.json()
        except ValueError as exc:
            raise ListingError(f"not JSON ({exc})") from exc
        units, errors = parse_listing(data)
        if not units:
            raise ListingError("empty listing")
        result.errors.extend(errors)
        return units

    def _fetch_units(self, client: HttpClient, base: str, units: dict[str, tuple[float, float] | None],
                     result: FetchResult, progress: Callable[[int, int], None] | None) -> None:
        ids = list(units)
        done = 0
        for start in range(0, len(ids), self.batch_size):
            batch = ids[start:start + self.batch_size]
            self._fetch_batch(client, base, batch, units, result)
            done += len(batch)
            if progress is not None:
                progress(done, len(ids))

    def _fetch_batch(self, client: HttpClient, base: str, batch: list[str],
                     units: dict[str, tuple[float, float] | None], result: FetchResult) -> None:
        try:
            response = client.get(base + FRAGMENT_PATH, params={"jednostkiIds": ",".join(batch)})
            # .text, not .content: stray windows-1250 bytes are repaired (logged), undecodable bodies fail
            parsed = {unit["id"]: unit for unit in parse_fragment(response.text)}
        except FetchError as exc:
            for unit_id in batch:
                result.errors.append({"where": f"RJPS unit {unit_id}", "message": exc.reason})
            return
        except Exception as exc:  # a parser crash on one fragment must not stop the run
            log.exception("RJPS fragment for %s failed to parse", batch)
            for unit_id in batch:
                result.errors.append({"where": f"RJPS unit {unit_id}", "message": f"parse error: {exc}"})
            return
        for unit_id in batch:
            self._add_unit(parsed.get(unit_id), unit_id, units[unit_id], response, result)

    @staticmethod
    def _add_unit(unit: dict | None, unit_id: str, coords: tuple[float, float] | None,
                  response: Response, result: FetchResult) -> None:
        if unit is None:
            result.errors.append({"where": f"RJPS unit {unit_id}", "message": "unit not in its fragment"})
        elif not unit["name"]:
            result.errors.append({"where": f"RJPS unit {unit_id}", "message": "fragment without a name"})
        else:
            result.items.append(unit_to_item(unit, coords, response.capture_id))


def replay_client(settings: Settings, replay_dir: str | Path = DEMO_REPLAY_DIR, run_id: int | None = None,
                  record: bool = True) -> HttpClient:
    """An HttpClient answering from a replay directory (default: the bundled demo, units 3499 and 2321).

    Use with `RjpsAdapter(expected_min=1).fetch(client, settings)`, or hand the pipeline
    `RjpsAdapter(expected_min=1, replay_dir=DEMO_REPLAY_DIR)`."""
    return HttpClient(settings, "rjps", run_id=run_id, replay_dir=replay_dir, record=record)


def write_replay(target: str | Path, listing: bytes, fragments: dict[str, bytes],
                 base: str = "https://rjps.mrpips.gov.pl", filtered: dict[str, bytes] | None = None) -> Path:
    """Write an RJPS replay directory: the listing answer, one fragment answer per unit id and the
    filtered-listing answers keyed by their `podkategorie` value (see rjps_taxonomy.taxonomy_requests)."""
    writer = ReplayWriter(target)
    body = json_body(LISTING_PAYLOAD)
    writer.add("POST", base + LISTING_PATH, listing, "application/json;charset=UTF-8", body=body,
               filename="zaladujDane.json")
    for unit_id, content in fragments.items():
        writer.add("GET", f"{base}{FRAGMENT_PATH}?jednostkiIds={unit_id}", content, "text/html;charset=UTF-8",
                   filename=f"pobierzDaneJednostki_{unit_id}.html")
    names = {ids: f"zaladujDane_{code}.json" for _, code, ids in taxonomy_requests()}
    for ids, content in (filtered or {}).items():
        writer.add("POST", base + LISTING_PATH, content, "application/json;charset=UTF-8",
                   body=json_body(taxonomy_payload(ids)), filename=names.get(ids, f"zaladujDane_{ids}.json"))
    return writer.save()


SAMPLES_DIR = REPO_ROOT / "data" / "registries" / "samples" / "rjps"
DEMO_UNITS = (2321, 3499)
DISABILITY_IDS = "7,8,9,10,11,12"   # the filter the one real filtered capture most likely answers


def build_demo_replay(target: str | Path = DEMO_REPLAY_DIR) -> Path:
    """Regenerate the demo replay dir from the real captures (data/demo/rjps-replay/SOURCE.md).

    The only real filtered listing (disability) answers both the plain listing and the disability
    filter, cut to the demo units; every other taxonomy filter is honestly unknown and answers []."""
    import json

    entries = json.loads((SAMPLES_DIR / "zaladujDane_response_2022-06_people_with_disabilities.json").read_bytes())
    demo_listing = (json.dumps([e for e in entries if e["id"] in DEMO_UNITS], indent=4) + "\n").encode()
    fragments = {str(u): (SAMPLES_DIR / f"pobierzDaneJednostki_{u}_list_fragment.html").read_bytes()
                 for u in sorted(DEMO_UNITS, reverse=True)}
    filtered = {ids: b"[]\n" for _, _, ids in taxonomy_requests()}
    filtered[DISABILITY_IDS] = demo_listing
    return write_replay(target, demo_listing, fragments, filtered=filtered)
