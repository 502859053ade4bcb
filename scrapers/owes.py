"""OWES: the minister's list of accredited social-economy support centres (wykaz akredytowanych OWES).

One page per voivodeship, {base}/owes/wojewodztwo/<n>.html, and its export
{base}/owes/action/export/wojewodztwo/<n>.html, n = 1..16 in alphabetical order (REGISTRIES.md §2),
which is the TERYT order, so n = woj_code / 2. The real columns are unknown: headers are mapped by Polish
labels in any order. The export (CSV, delimiter and encoding sniffed) is preferred; the page is the
fallback. One OWES = leader (operator) + partners serving a subregion (list of powiaty); names are
generic, so an entry is keyed on (operator, subregion)."""
from __future__ import annotations

import logging
import re

from catalog.records import FetchResult, SourceItem
from catalog.settings import Settings
from catalog.settings import expected_min as settings_expected_min
from catalog.slug import slug
from catalog.text import fold_spaces as fold
from catalog.types import InstitutionType
from catalog.voivodeships import voivodeships
from scrapers.base import SourceMeta
from scrapers.documents import Table, UnreadableDocument, read_tables
from scrapers.documents.dates import parse_date

log = logging.getLogger(__name__)

WOJ_NUMBERS: dict[int, str] = {v.number: v.code for v in voivodeships()}   # 1 -> "02" dolnośląskie

# Order matters: the first matching rule names a column ("data decyzji" before "decyzja").
HEADER_RULES: list[tuple[str, str]] = [
    ("lp", r"^(lp|l\.p|nr)\.?$"),
    ("decision_date", r"data.*(decyzj|akredyt|wydania)|^data$"),
    ("decision_number", r"(numer|nr|znak).*decyzj|^decyzja|akredytacj"),
    ("partners", r"partner"),
    ("operator_name", r"lider|podmiot\w* prowadz|wnioskodawc|instytucj\w* prowadz|prowadzac"),
    ("subregion", r"subregion|nazwa obszaru"),
    ("area", r"obszar|powiat|zasieg|teren"),
    ("woj", r"wojewodztw"),
    ("name", r"nazwa"),
    ("address", r"adres|siedzib"),
    ("phones_raw", r"telefon|tel\."),
    ("email", r"e-?mail|poczta"),
    ("www", r"www|strona"),
]


class OwesAdapter:
    meta = SourceMeta(
        key="owes",
        name="Wykaz akredytowanych ośrodków wsparcia ekonomii społecznej (OWES)",
        url="https://wykazowes.ekonomiaspoleczna.gov.pl",
        licence="informacja publiczna (ustawa o dostępie do informacji publicznej)",
        attribution="Minister Rodziny, Pracy i Polityki Społecznej — wykaz akredytowanych OWES",
        expected_min=20,
    )

    def __init__(self, expected_min: int | None = None) -> None:
        default = settings_expected_min(self.meta.key, self.meta.expected_min)
        self.expected_min = default if expected_min is None else expected_min

    def fetch(self, client, settings: Settings) -> FetchResult:
        from scrapers.http import FetchError

        base = settings.base_url("owes")
        result = FetchResult(complete=True)
        for n, woj in WOJ_NUMBERS.items():
            try:
                rows, capture_id = self._woj_rows(client, base, n, FetchError)
            except FetchError as exc:
                result.complete = False
                result.errors.append({"where": f"OWES województwo {n} ({woj})", "message": str(exc)})
                continue
            for row in rows:
                item = row_to_item(row, woj, capture_id)
                result.items.append(item)
                result.listed_keys.add(item.source_key)
        if not result.items:
            result.fatal = "OWES: no entry in any voivodeship (source down or layout changed)"
        elif result.complete and len(result.items) < self.expected_min:
            result.complete = False   # too few for the whole list: do not count the others as closed
            result.errors.append({"where": "OWES", "message": f"only {len(result.items)} entries listed"})
        return result

    def _woj_rows(self, client, base: str, n: int, fetch_error) -> tuple[list[dict], int | None]:
        """Rows of one voivodeship: the export first, the HTML page when the export fails or is empty."""
        try:
            response = client.get(f"{base}/owes/action/export/wojewodztwo/{n}.html")
            rows = parse_document(response.content, response.headers.get("content-type", ""))
            if rows:
                return rows, response.capture_id
        except fetch_error as exc:
            log.info("OWES export %s failed (%s); using the page", n, exc)
        response = client.get(f"{base}/owes/wojewodztwo/{n}.html")
        return parse_document(response.content, response.headers.get("content-type", "")), response.capture_id


def parse_document(data: bytes, content_type: str = "") -> list[dict]:
    """An export (CSV) or a page (HTML) -> row dicts keyed by field names (see HEADER_RULES), read by the
    document readers (scrapers.documents) like every other table; the first table with a name column wins."""
    try:
        tables = read_tables(data, content_type=content_type)
    except UnreadableDocument as exc:
        log.info("OWES document unreadable: %s", exc)
        return []
    for table in tables:
        rows = _records(table)
        if rows:
            return rows
    return []


def _map_headers(headers: list[str]) -> dict[int, str]:
    """Column index -> field name: the first rule whose regex matches the folded header wins;
    each field is taken by its first column only."""
    out: dict[int, str] = {}
    for i, header in enumerate(headers):
        folded = fold(header)
        for name, pattern in HEADER_RULES:
            if name not in out.values() and re.search(pattern, folded):
                out[i] = name
                break
    return out


def _records(table: Table) -> list[dict]:
    """Rows under the first row that maps a name column -> dicts field -> text, plus '_raw' (header -> text)."""
    found = next(((i, row, _map_headers(row)) for i, row in enumerate(table)
                  if "name" in _map_headers(row).values()), None)
    if found is None:
        return []
    start, header, mapping = found
    out = []
    for row in table[start + 1:]:
        record = {name: row[i].strip() for i, name in mapping.items() if i < len(row) and row[i].strip()}
        if record.get("name"):
            record["_raw"] = {header[i]: row[i] for i in range(min(len(header), len(row)))}
            out.append(record)
    return out


def _split_list(text: str | None) -> list[str]:
    """A cell listing several names, one per line or separated by ';' / '|'."""
    return [part.strip(" ,.") for part in re.split(r"\s*(?:\n|;|\|)\s*", text or "") if part.strip(" ,.")]


def row_to_item(row: dict, woj: str, capture_id: int | None) -> SourceItem:
    """One list row -> SourceItem; the service area stays the names the list gives (geo.units resolves
    them before the merge and reports those that do not resolve)."""
    area_text = row.get("area") or row.get("subregion") or ""
    subregion = _subregion_name(row)
    operator = row.get("operator_name") or ""
    fields = {
        "name": row["name"],
        "type": InstitutionType.OWES.value,
        "type_raw": "OWES",
        "operator_name": operator or None,
        "partners": [{"name": p, "role": "partner"} for p in _split_list(row.get("partners"))],
        "decision_number": row.get("decision_number"),
        "decision_date": parse_date(row.get("decision_date")),
        "woj_teryt": woj,
        "status": "active",
        "notes": f"Obszar działania: {subregion or area_text}".strip() if (subregion or area_text) else None,
        "address_raw": row.get("address"),
        "phones_raw": row.get("phones_raw"),
        "email": row.get("email"),
        "www": row.get("www"),
    }
    key = f"{woj}:{slug(operator or row['name'])}:{slug(subregion) or slug(area_text)}"
    raw = {k: v for k, v in row["_raw"].items() if k}
    return SourceItem(source="owes", source_key=key, fields=fields, raw=raw, capture_id=capture_id,
                      units={"service_area": area_text})


def _subregion_name(row: dict) -> str:
    if row.get("subregion"):
        return row["subregion"]
    m = re.match(r"\s*(subregion[^(:]*)", row.get("area") or "", re.IGNORECASE)
    return m.group(1).strip() if m else ""

