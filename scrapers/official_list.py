"""Official lists of institutions (DPS registers, ŚDS and OPS lists, mixed support bases) as a source.

One path for every such document, whoever brings it: the configured per-office sources
(scrapers.official_list_config, fetched from the office's site), the operator's
`wsparcie import-document` of a hand-downloaded file, and the offline snapshot's bundled copies
(orchestration.demo). Each turns `parse_register` rows into SourceItems with:

* the row's own type (a mixed list yields OPS, PCPR, OIK… each as itself);
* per-field raw strings (the document's cells) plus the document URL, its sha256 and as-of date;
* the capture id of the exact bytes (RawCapture), and `source_updated_at` = the document's as-of date,
  which makes places / free places a dated observation (catalog.priority);
* the powiat and gmina names where the list gives them (`SourceItem.units`; geo.units turns them into
  TERYT codes before the merge, and a list without addresses is placed by the seat in the name within
  that powiat, geo.assign);
* a stable `source_key` per institution (see `institution_key`).
"""
from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urljoin

from catalog.matching import normalise_name
from catalog.records import FetchResult, SourceItem
from catalog.settings import Settings
from catalog.slug import slug
from catalog.types import TYPES, InstitutionType
from catalog.voivodeships import voivodeship
from scrapers.base import SourceMeta
from scrapers.cis_kis import attachment_filename, find_documents
from scrapers.official_list_config import CONFIGS, ListConfig

log = logging.getLogger(__name__)

LICENCE = "informacja sektora publicznego (ustawa o otwartych danych i ponownym wykorzystywaniu ISP)"
# Kinds whose rows are all of one type unless the row says otherwise.
_KIND_TYPES = {t.value for t in InstitutionType}


# -- identity -----------------------------------------------------------------------------------------


def institution_key(row, type_code: str) -> str:
    """`<type>:<normalised name>:<place>`, the place being the locality, else the powiat.

    Lists carry no identifiers and no register numbers, and l.p. numbers shift every month, so the name is
    the identity. It is normalised the way cross-source matching does (diacritics, case, punctuation,
    quotes, abbreviations: "DPS w Zakrzewie" = "Dom Pomocy Społecznej w Zakrzewie"), so the small edits
    monthly versions make key the same home; the street is left out because it is the field most often
    re-typed. Two homes of one name in one place are told apart by `unique_keys`."""
    place = row.locality or row.powiat_name or row.gmina_name or ""
    return f"{type_code}:{slug(normalise_name(row.name))}:{slug(place)}"


def unique_keys(rows: list, types: list[str]) -> list[str]:
    """institution_key per row; where a document holds two homes of one name in one place (several
    "Dom Pomocy Społecznej" in Kraków), the street and number are added, then the row number."""
    keys = [institution_key(r, t) for r, t in zip(rows, types, strict=True)]
    counts = Counter(keys)
    keys = [k if counts[k] == 1 else f"{k}:{slug(' '.join(filter(None, (r.street, r.building))))}"
            for k, r in zip(keys, rows, strict=True)]
    counts = Counter(keys)
    return [k if counts[k] == 1 else f"{k}:r{r.row_number}" for k, r in zip(keys, rows, strict=True)]


# -- rows -> items ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Document:
    """Where the rows came from: what provenance points at."""
    url: str
    sha256: str
    capture_id: int | None
    as_of: date | None = None          # operator's --as-of: overrides the document's own date


def row_type(row, kind: str) -> str:
    code = row.type or (kind if kind in _KIND_TYPES else None)
    return code if code in _KIND_TYPES else InstitutionType.OTHER.value


def rows_to_items(rows: list, kind: str, source: str, woj: str | None, doc: Document) -> list[SourceItem]:
    types = [row_type(r, kind) for r in rows]
    keys = unique_keys(rows, types)
    return [row_to_item(r, t, k, source, woj, doc) for r, t, k in zip(rows, types, keys, strict=True)]


def row_to_item(row, type_code: str, key: str, source: str, woj: str | None, doc: Document) -> SourceItem:
    as_of = doc.as_of or row.as_of
    has_places = row.places_total is not None or row.places_free is not None
    info = TYPES.get(InstitutionType(type_code))
    fields = {
        "name": row.name, "type": type_code,
        "type_raw": info.label if info and type_code != InstitutionType.OTHER.value else None,
        "operator_name": row.operator_name, "operator_krs": row.operator_krs,
        "operator_nip": row.operator_nip, "operator_regon": row.operator_regon,
        "krs": row.krs, "nip": row.nip, "regon": row.regon,
        "street": row.street, "building": row.building, "flat": row.flat,
        "postal_code": row.postal_code, "locality": row.locality, "address_raw": row.address_raw,
        "woj_teryt": woj,
        "phones": row.phones, "phones_raw": row.phones_raw,   # catalog.normalise parses phones_raw if needed
        "email": row.email or (row.emails[0] if row.emails else None), "www": row.www,
        # A monthly places sheet's remarks are about that month's placements ("wszczęto procedurę
        # umieszczenia"): kept with the raw cells, not as the institution's notes.
        "status": row.status, "notes": _notes(row, monthly=row.places_free is not None),
        "places_total": row.places_total, "places_free": row.places_free,
        "places_as_of": as_of if has_places else None,
        "epuap": row.epuap, "home_types": list(row.home_types or []), "head": row.head,
    }
    # The powiat and gmina as the list names them: geo.units resolves them to TERYT before the merge.
    units = {name: value for name, value in (("powiat", row.powiat_name), ("gmina", row.gmina_name)) if value}
    return SourceItem(source=source, source_key=key, fields=fields, raw=_raw(row, doc, as_of),
                      capture_id=doc.capture_id, source_updated_at=as_of, units=units)


def _notes(row, monthly: bool) -> str | None:
    notes = [n for n in (row.notes,) if n and n.strip() not in ("-", "–") and not monthly]
    for branch in row.branches or []:
        label = (branch.get("label") or "filia").strip()
        notes.append(f"{label[:1].upper()}{label[1:]}: {branch.get('address_raw') or ''}".strip().rstrip(":"))
    return "\n".join(notes) or None


def _raw(row, doc: Document, as_of: date | None) -> dict[str, str]:
    raw = {str(k): "" if v is None else str(v) for k, v in (row.raw or {}).items()}
    raw.update({"_document": doc.url, "_sha256": doc.sha256, "_row": str(row.row_number),
                "_as_of": as_of.isoformat() if as_of else ""})
    for name in ("powiat_name", "gmina_name", "operator_address", "e_delivery", "scope"):
        if getattr(row, name, None):
            raw[f"_{name}"] = str(getattr(row, name))
    for name in ("residents", "waiting"):
        if getattr(row, name, None) is not None:
            raw[f"_{name}"] = str(getattr(row, name))
    if len(row.emails or []) > 1:
        raw["_emails"] = ", ".join(row.emails)
    if row.warnings:
        raw["_warnings"] = "; ".join(row.warnings)
    return raw


def read_rows(data: bytes, filename: str, kind: str) -> list:
    """parse_register, raising UnreadableDocument (with the reason) for a file that holds no row."""
    from scrapers.documents import UnreadableDocument, parse_register

    rows = parse_register(data, filename, kind)
    if not rows:
        raise UnreadableDocument("dokument nie zawiera żadnej instytucji")
    return rows


def document_items(data: bytes, filename: str, kind: str, source: str, woj: str | None, url: str,
                   capture_id: int | None, as_of: date | None = None) -> list[SourceItem]:
    rows = read_rows(data, filename, kind)
    doc = Document(url, hashlib.sha256(data).hexdigest(), capture_id, as_of)
    return rows_to_items(rows, kind, source, woj, doc)


_URL_DATE = re.compile(r"(20\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?([0-3]\d)")


def _url_date(url: str) -> str:
    m = _URL_DATE.search(unquote(url))
    return "".join(m.groups()) if m else ""


def _newest(found: list[tuple[date | None, str, list[SourceItem]]]) -> list[SourceItem]:
    """The newest version of a monthly list: the latest as-of date, then the latest date in the file's
    address (two sheets often repeat one as-of date), then the first listed (pages list newest first)."""
    ranked = sorted(enumerate(found), key=lambda p: (p[1][0] or date.min, _url_date(p[1][1]), -p[0]))
    return ranked[-1][1][2]


def _deduplicated(result: FetchResult, items: list[SourceItem]) -> None:
    for item in items:
        if item.source_key not in result.listed_keys:
            result.items.append(item)
            result.listed_keys.add(item.source_key)


# -- adapters -----------------------------------------------------------------------------------------

def woj_of_key(key: str) -> str | None:
    if key in CONFIGS:
        return CONFIGS[key].woj
    m = re.search(r"-(\d{2})(?:-|$)", key)
    return m.group(1) if m and voivodeship(m.group(1)) else None


class DocumentAdapter:
    """One document file as one complete run of source `key` (import-document, the offline snapshot).

    The bytes are answered by a one-entry replay directory, so the HTTP client stores them as a RawCapture
    (sha256, URL) exactly as a live download would be."""

    def __init__(self, key: str, data: bytes, filename: str, kind: str, url: str, replay_dir: Path,
                 as_of: date | None = None, name: str | None = None) -> None:
        from scrapers.replay import ReplayWriter

        self.key, self.kind, self.url, self.filename, self.as_of = key, kind, url, filename, as_of
        cfg = CONFIGS.get(key)
        self.woj = woj_of_key(key)
        self.meta = SourceMeta(
            key=key, name=name or (cfg.title if cfg else f"Dokument urzędowy ({key})"),
            # an unverified office address is a guess: the sources page links the document itself instead
            url=cfg.url if cfg and cfg.verified else url, licence=LICENCE,
            attribution=(cfg.office if cfg else "urząd publikujący dokument") + " — dokument urzędowy",
        )
        writer = ReplayWriter(replay_dir)
        writer.add("GET", url, data, None, filename="document")
        writer.save()
        self.replay_dir = replay_dir

    def fetch(self, client, settings: Settings) -> FetchResult:
        from scrapers.documents import UnreadableDocument
        from scrapers.http import FetchError

        result = FetchResult(complete=True)
        try:
            response = client.get(self.url)
            items = document_items(response.content, self.filename, self.kind, self.key, self.woj, self.url,
                                   response.capture_id, self.as_of)
        except (UnreadableDocument, FetchError) as exc:
            result.fatal = f"{self.filename}: dokument nieczytelny: {exc}"
            return result
        _deduplicated(result, items)
        return result


class OfficialListAdapter:
    """A configured list of one office (scrapers.official_list_config), fetched from its site."""

    def __init__(self, key: str) -> None:
        self.config: ListConfig = CONFIGS[key]
        self.meta = SourceMeta(key=key, name=self.config.title, url=self.config.url, licence=LICENCE,
                               attribution=f"{self.config.office} — {self.config.title.split(' — ')[0]}")

    def fetch(self, client, settings: Settings) -> FetchResult:
        from scrapers.documents import UnreadableDocument
        from scrapers.http import FetchError

        result = FetchResult(complete=True)
        found: list[tuple[date | None, str, list[SourceItem]]] = []
        for url in self._document_urls(client, settings, result):
            try:
                response = client.get(url)
                items = document_items(response.content, attachment_filename(url, response), self.config.kind,
                                       self.config.key, self.config.woj, url, response.capture_id)
            except (UnreadableDocument, FetchError) as exc:
                self._error(result, url, f"dokument nieczytelny lub niedostępny: {exc}")
                continue
            found.append((max((i.source_updated_at for i in items if i.source_updated_at), default=None), url, items))
        if found:
            chosen = [_newest(found)] if self.config.newest_only else [items for _, _, items in found]
            for items in chosen:
                _deduplicated(result, items)
        if not result.items:
            reasons = "; ".join(e["message"] for e in result.errors) or "nie znaleziono dokumentu na stronie"
            result.fatal = f"{self.config.key}: {reasons}"
        return result

    def _document_urls(self, client, settings: Settings, result: FetchResult) -> list[str]:
        from scrapers.http import FetchError

        base = self.config.base(settings)
        urls = [base + path for path in self.config.document_paths]
        for path in self.config.landing_paths:
            try:
                page = client.get(base + path)
            except FetchError as exc:
                self._error(result, base + path, f"strona z wykazem niedostępna: {exc}")
                continue
            urls += [urljoin(base + path, d.url) for d in find_documents(page.content, base + path, self.config)
                     if not d.inline]
        return list(dict.fromkeys(urls))

    def _error(self, result: FetchResult, url: str, message: str) -> None:
        result.complete = False
        result.errors.append({"where": f"{self.config.key}: {url}", "message": message})
        log.warning("%s: %s (%s)", self.config.key, message, url)
