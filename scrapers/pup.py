"""PUP: the national list of powiat labour offices on the public employment services portal.

The real page (psz.praca.gov.pl) has never been captured (REGISTRIES.md §4), so its URL path and layout
are assumptions: one page, a section per województwo, one block per office with labelled values
(<dt>/<dd>, or "Label: value" lines) and an optional list of branches (filie). Everything is located by
Polish labels, not by classes, so a real layout with the same labels parses without changes.
Branches are separate items carrying fields["parent_source_key"] (the seat's source_key), which the
merge turns into Institution.parent_id."""
from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

from catalog.records import FetchResult, SourceItem
from catalog.settings import Settings
from catalog.settings import expected_min as settings_expected_min
from catalog.slug import slug
from catalog.text import fold_spaces as fold
from catalog.types import InstitutionType
from catalog.voivodeships import voivodeships
from scrapers.base import SourceMeta
from scrapers.documents.textfix import decode_text

LIST_PATH = "/urzedy-pracy"   # unverified: capture the real list page at the first online run

_LABELS: list[tuple[str, str]] = [
    ("area", r"obszar|powiat|teren|wlasciwosc"),
    ("address_raw", r"adres|siedzib"),
    ("phones_raw", r"telefon|tel\.?$"),
    ("email", r"e-?mail|poczta"),
    ("www", r"www|strona"),
]
_WOJ_HEADING = re.compile(r"wojewodztwo\s+([a-z-]+)")


class PupAdapter:
    meta = SourceMeta(
        key="pup",
        name="Powiatowe urzędy pracy — wortal publicznych służb zatrudnienia",
        url="https://psz.praca.gov.pl",
        licence="informacja publiczna (ustawa o dostępie do informacji publicznej)",
        attribution="Ministerstwo Rodziny, Pracy i Polityki Społecznej — wortal PSZ",
        expected_min=300,
    )

    def __init__(self, expected_min: int | None = None) -> None:
        default = settings_expected_min(self.meta.key, self.meta.expected_min)
        self.expected_min = default if expected_min is None else expected_min

    def fetch(self, client, settings: Settings) -> FetchResult:
        from scrapers.http import FetchError

        try:
            response = client.get(settings.base_url("pup") + LIST_PATH)
            page = response.text   # the declared charset, strictly (scrapers.documents.textfix)
        except FetchError as exc:
            return FetchResult(fatal=f"PUP list unavailable: {exc}")
        items, errors = parse_list(page, response.capture_id)
        result = FetchResult(items=items, errors=errors, complete=True)
        result.listed_keys = {i.source_key for i in items}
        seats = [i for i in items if "parent_source_key" not in i.fields]
        if not seats:
            result.fatal = "PUP list has no office (layout changed?)"
        elif len(seats) < self.expected_min:
            result.complete = False   # a partial list must not mark the others as closed
            result.errors.append({"where": "PUP", "message": f"only {len(seats)} offices listed"})
        return result


def parse_list(page: str | bytes, capture_id: int | None = None) -> tuple[list[SourceItem], list[dict]]:
    """Offices (and their branches) of the list page; bytes are decoded by the one strict text decoder
    (scrapers.documents.textfix), not by bs4's own guess, which replaces what it cannot read."""
    text = decode_text(page).text if isinstance(page, bytes) else page
    soup = BeautifulSoup(text, "lxml")
    items: list[SourceItem] = []
    errors: list[dict] = []
    woj = None
    for node in soup.find_all(["h2", "article", "div", "section", "li"]):
        if node.name == "h2":
            woj = _woj_code(node.get_text(" ", strip=True)) or woj
        elif _is_office(node):
            seat = _item(node, woj, capture_id, errors)
            if seat is None:
                continue
            items.append(seat)
            for branch_node in _branches(node):
                branch = _item(branch_node, woj, capture_id, errors, parent=seat)
                if branch is not None:
                    items.append(branch)
    return items, errors


def _woj_code(heading: str) -> str | None:
    m = _WOJ_HEADING.search(fold(heading))
    if not m:
        return None
    return next((w.code for w in voivodeships() if fold(w.name) == m.group(1)), None)


def _is_office(node: Tag) -> bool:
    """A block whose own heading names a labour office and that is not inside a branch list."""
    heading = node.find(["h3"], recursive=False)
    return heading is not None and "urzad pracy" in fold(heading.get_text())


def _branches(node: Tag) -> list[Tag]:
    return [li for li in node.find_all("li") if li.find(["h4", "h5", "strong"])]


def _values(node: Tag) -> dict[str, str]:
    """Labelled values directly in this block (not in its branch list)."""
    out: dict[str, str] = {}
    for dt in node.find_all("dt"):
        if dt.find_parent("li") is not None and dt.find_parent("li") is not node:
            continue
        dd = dt.find_next_sibling("dd")
        if dd is None:
            continue
        label = fold(dt.get_text(" ", strip=True)).rstrip(":")
        for name, pattern in _LABELS:
            if name not in out and re.search(pattern, label):
                out[name] = " ".join(dd.get_text(" ", strip=True).split())
                break
    return out


def _item(node: Tag, woj: str | None, capture_id: int | None, errors: list[dict],
          parent: SourceItem | None = None) -> SourceItem | None:
    heading = node.find(["h3", "h4", "h5", "strong"])
    name = " ".join(heading.get_text(" ", strip=True).split()) if heading else ""
    if not name:
        return None
    values = _values(node)
    fields = {
        "name": name if parent is None else _branch_name(name, parent.fields["name"]),
        "type": InstitutionType.PUP.value,
        "type_raw": "filia urzędu pracy" if parent else "urząd pracy",
        "address_raw": values.get("address_raw"),   # parsed into parts by catalog.normalise
        "phones_raw": values.get("phones_raw"),
        "email": values.get("email"), "www": values.get("www"),
        "woj_teryt": woj,
        "status": "active",
    }
    if parent is None:
        key = f"{woj or '00'}:{slug(name)}"
        raw = {"name": name, **values}
    else:
        key = f"{parent.source_key}/filia:{slug(name)}"
        fields["parent_source_key"] = parent.source_key
        raw = {"name": name, **values, "parent_source_key": parent.source_key}
    # The powiaty served, as named; geo.units resolves them (a branch without its own list inherits its seat's).
    return SourceItem(source="pup", source_key=key, fields=fields, raw=raw, capture_id=capture_id,
                      units={"service_area": values.get("area") or ""})


def _branch_name(name: str, seat: str) -> str:
    """'Filia w Łapach' -> 'Powiatowy Urząd Pracy w Białymstoku — Filia w Łapach' (a findable full name)."""
    return name if "urzad pracy" in fold(name) else f"{seat} — {name}"

