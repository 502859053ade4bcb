"""CIS and KIS registers of the 16 wojewodas, one adapter class configured per voivodeship.

Each voivodeship is its own source ("cis-kis-<woj>", see scrapers.cis_kis_config), so a broken document
in one office never stops or taints the others. Per run: fetch the landing page(s), find the register
documents by the configured link rules, read each with scrapers.documents.parse_register (any format;
CIS validity and expired status are computed there) and turn rows into SourceItems. A document that cannot
be read (e.g. a scan without a text layer) becomes an error naming the voivodeship, the document and the
reason; the run is then incomplete, so nothing the unreadable document held is counted as missing."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from bs4 import BeautifulSoup

from catalog.records import FetchResult, SourceItem
from catalog.settings import Settings
from catalog.slug import slug
from catalog.text import fold_spaces as fold
from catalog.types import TYPES, InstitutionType, type_from_label
from catalog.voivodeships import voivodeship
from scrapers.base import SourceMeta
from scrapers.cis_kis_config import CONFIGS, DOCUMENT_EXTENSIONS, RegisterConfig

log = logging.getLogger(__name__)

_ATTACHMENT_HINT = re.compile(r"pobierz|download|attachment|zalacznik|plik|getfile|get\.html", re.IGNORECASE)
_REGISTER_NUMBER_LABEL = re.compile(r"(nr|numer)\s*(w\s*)?(rejestr|wpisu|ewidencyjny)")


@dataclass(frozen=True)
class Document:
    url: str
    kind: str          # "cis", "kis" or "cis+kis"
    inline: bool = False


class CisKisAdapter:
    def __init__(self, woj: str, today: date | None = None) -> None:
        self.config: RegisterConfig = CONFIGS[woj]
        self.today = today
        first = self.config.base_url + self.config.landing_paths[0]
        self.meta = SourceMeta(
            key=self.config.source_key,
            name=f"Rejestr CIS i KIS — {self.config.office}",
            url=first,
            licence="informacja publiczna (ustawa o dostępie do informacji publicznej)",
            attribution=f"{self.config.office} — rejestr centrów i klubów integracji społecznej",
            expected_min=1,
        )

    @property
    def where(self) -> str:
        woj = voivodeship(self.config.woj)
        return f"województwo {woj.name if woj else self.config.woj} ({self.config.source_key})"

    def fetch(self, client, settings: Settings) -> FetchResult:
        from scrapers.http import FetchError

        result = FetchResult(complete=True)
        documents: list[tuple[Document, bytes, str, int | None]] = []
        for url in self.config.landing_urls(settings):
            try:
                page = client.get(url)
            except FetchError as exc:
                self._error(result, url, f"strona rejestru niedostępna: {exc}")
                continue
            for doc in find_documents(page.content, url, self.config):
                if doc.inline:
                    documents.append((doc, page.content, "rejestr.html", page.capture_id))
                    continue
                try:
                    response = client.get(doc.url)
                except FetchError as exc:
                    self._error(result, doc.url, f"nie udało się pobrać dokumentu: {exc}")
                    continue
                documents.append((doc, response.content, attachment_filename(doc.url, response), response.capture_id))
        if not documents and not result.errors:
            self._error(result, self.meta.url, "nie znaleziono dokumentu rejestru na stronie (zmiana układu?)")
        for doc, data, filename, capture_id in documents:
            self._read(result, doc, data, filename, capture_id)
        if not result.items and result.errors:
            result.fatal = f"{self.where}: " + "; ".join(e["message"] for e in result.errors)
        elif not result.items:   # an emptied register is more likely a broken page than 0 units
            result.fatal = f"{self.where}: dokumenty rejestru nie zawierają żadnego wiersza"
        return result

    def _read(self, result: FetchResult, doc: Document, data: bytes, filename: str,
              capture_id: int | None) -> None:
        from scrapers.documents import UnreadableDocument

        try:
            rows = read_register(data, filename, doc.kind, self.today)
        except UnreadableDocument as exc:
            if doc.inline:   # a landing page without a table is normal when the register is attached
                log.debug("%s: no inline register on %s (%s)", self.where, doc.url, exc)
                return
            self._error(result, doc.url, f"dokument nieczytelny: {exc}")
            return
        for row in rows:
            item = row_to_item(row, self.config.source_key, self.config.woj, capture_id, doc.url)
            if item.source_key in result.listed_keys:
                continue
            result.items.append(item)
            result.listed_keys.add(item.source_key)

    def _error(self, result: FetchResult, url: str, message: str) -> None:
        result.complete = False
        result.errors.append({"where": f"{self.where}: {url}", "message": message})
        log.warning("%s: %s (%s)", self.where, message, url)


def find_documents(page: bytes, page_url: str, config: RegisterConfig) -> list[Document]:
    """Register documents linked from a landing page, by the voivodeship's rules (first rule wins)."""
    soup = BeautifulSoup(page, "lxml")
    found: list[Document] = []
    seen: set[str] = set()
    for rule in config.documents:
        if rule.inline and soup.find("table") is not None:
            found.append(Document(page_url, rule.kind, inline=True))
    for anchor in soup.find_all("a", href=True):
        href = urljoin(page_url, anchor["href"])
        if href in seen or not _is_document_link(href, anchor.get_text(" ", strip=True)):
            continue
        text = fold(" ".join([anchor.get_text(" ", strip=True), anchor.get("title", ""), unquote(href)]))
        for rule in config.documents:
            if not rule.inline and rule.matches(text):
                found.append(Document(href, rule.kind))
                seen.add(href)
                break
    return found


def _is_document_link(href: str, text: str) -> bool:
    suffix = PurePosixPath(urlsplit(href).path).suffix.lower().lstrip(".")
    if suffix in DOCUMENT_EXTENSIONS and suffix not in ("htm", "html"):
        return True
    return bool(_ATTACHMENT_HINT.search(href) or _ATTACHMENT_HINT.search(text))


def attachment_filename(url: str, response) -> str:
    """The file name an office gave its attachment (Content-Disposition), else the URL's last segment;
    the readers pick the format by it when the bytes alone do not tell."""
    disposition = response.headers.get("content-disposition", "") if response.headers else ""
    m = re.search(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)", disposition, re.IGNORECASE)
    if m:
        return unquote(m.group(1))
    return unquote(PurePosixPath(urlsplit(url).path).name) or "dokument"


def read_register(data: bytes, filename: str, kind: str, today: date | None = None) -> list:
    """parse_register for one kind, or for a document holding both CIS and KIS ("cis+kis").

    parse_register skips sections of the other kind; a document without sections yields every row in both
    passes, so each row is kept in the pass whose kind its name states (CIS first when the name says
    neither)."""
    from scrapers.documents import parse_register

    if kind != "cis+kis":
        return parse_register(data, filename, kind, today)
    rows, seen = [], set()
    for pass_kind in ("cis", "kis"):
        for row in parse_register(data, filename, pass_kind, today):
            named = type_from_label(row.name).value
            if named in ("cis", "kis") and named != pass_kind:
                continue
            key = (row.row_number, row.name)
            if key not in seen:
                seen.add(key)
                rows.append(row)
    return rows


def row_to_item(row, source: str, woj: str, capture_id: int | None, document_url: str) -> SourceItem:
    kind = row.kind if row.kind in ("cis", "kis") else InstitutionType.CIS.value
    raw = {str(k): "" if v is None else str(v) for k, v in (row.raw or {}).items()}
    register_number = next((v for k, v in raw.items() if v and _REGISTER_NUMBER_LABEL.search(fold(k))), None)
    fields = {
        "name": row.name,
        "type": kind,
        "type_raw": TYPES[InstitutionType(kind)].label,
        "operator_name": row.operator_name,
        "operator_krs": row.operator_krs, "operator_nip": row.operator_nip, "operator_regon": row.operator_regon,
        "krs": row.krs, "nip": row.nip, "regon": row.regon,
        "register_number": register_number,
        "street": row.street, "building": row.building, "flat": row.flat,
        "postal_code": row.postal_code, "locality": row.locality, "address_raw": row.address_raw,
        "phones": row.phones,   # else catalog.normalise parses phones_raw
        "phones_raw": row.phones_raw, "email": row.email, "www": row.www,
        "status": row.status,
        "valid_from": row.valid_from or row.decision_date or row.entry_date,
        "valid_until": row.valid_until,
        "decision_number": row.decision_number,
        "decision_date": row.decision_date or row.entry_date,
        "woj_teryt": woj,
        "notes": row.notes,
    }
    raw["_document"] = document_url
    raw["_row"] = str(row.row_number)
    if row.warnings:
        raw["_warnings"] = "; ".join(row.warnings)
    return SourceItem(source=source, source_key=_source_key(kind, register_number, row), fields=fields,
                      raw=raw, capture_id=capture_id)


def _source_key(kind: str, register_number: str | None, row) -> str:
    """Register number, else the unit's own NIP/KRS/REGON, else normalised name + postal code."""
    if register_number:
        return f"{kind}:nr:{slug(register_number)}"
    for ident in ("nip", "krs", "regon"):
        value = getattr(row, ident, None)
        if value:
            return f"{kind}:{ident}:{value}"
    place = row.postal_code or slug(row.locality or "")
    return f"{kind}:{slug(row.name)}:{place}"

