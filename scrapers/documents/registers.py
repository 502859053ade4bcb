"""Register tables -> normalised register rows (RegisterRow), one per institution.

The rules that matter to users live here: CIS status is valid for 5 years from the decision unless the
document gives its own end date, an expired CIS is marked "expired" (never dropped), and a KIS the
document reports as removed or closed is "closed"."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date

from catalog.address import parse_address
from catalog.phones import normalise_phones
from catalog.types import InstitutionType
from scrapers.documents import columns as col
from scrapers.documents import institutions as inst
from scrapers.documents.dates import add_years, find_dates, parse_date, parse_period
from scrapers.documents.header import Header, find_header, infer_header, is_column_numbers, row_score
from scrapers.documents.identifiers import check_identifier, find_labelled, strip_labelled
from scrapers.documents.reader import read_leading_text, read_tables
from scrapers.documents.tables import Row, Table, UnreadableDocument

LEGACY_KINDS = ("cis", "kis", "zaz", "wtz", "owes", "ps")   # registers with CIS/KIS sections and statuses
MIXED_KINDS = ("mixed", "auto")                              # each row typed by its own name
KINDS = (*LEGACY_KINDS, *(t.value for t in InstitutionType if t.value not in LEGACY_KINDS), *MIXED_KINDS)
CIS_STATUS_YEARS = 5
_CLOSED_MARKERS = (
    "wykresl", "skreslon", "zakonczyl", "zakonczyla", "zakonczenie dzialalnosci", "zlikwidowan",
    "likwidacj", "zamknie", "nie prowadzi", "nieczynn", "cofnie", "utracil", "utracila", "rozwiazan",
)
_EXPIRED_MARKERS = ("wygasl", "wygasa", "wygaslo", "status wygasl")
_SECTION_KINDS = (
    ("cis", ("centr", "integracji")), ("kis", ("klub", "integracji")), ("zaz", ("zaklad", "aktywnosci")),
    ("wtz", ("warsztat", "terapii")), ("owes", ("wsparcia", "ekonomii")),
)
_VALID_IN_NOTES = re.compile(r"(?:ważn\w*|wazn\w*|\bdo)\s+(?:dnia\s+)?\d{1,2}[.\-/]\d{1,2}[.\-/]\d{4}", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_WWW = re.compile(r"(?:https?://|www\.)[^\s,;]+", re.IGNORECASE)
_PHONE_LINE = re.compile(r"^\s*(?:tel|telefon|tel\.?\s*/\s*fa[xk]s?|kom|mob|centrala)\b", re.IGNORECASE)
_FAX_LINE = re.compile(r"^\s*fa[xk]s?\b", re.IGNORECASE)
_HOUSE_NUMBER_END = re.compile(r"\s\d+[a-zA-Z]?(?:\s?/\s?\d+[a-zA-Z]?)?$")
_POSTAL = re.compile(r"\b\d{2}\s?-\s?\d{3}\b")
_STREET_START = re.compile(r"^\s*(?:ul|al|pl|os|aleja|ulica|plac|osiedle)\.?\s", re.IGNORECASE)
# A street inside a name line: "Dom Pomocy Społecznej w TORUNIU ul. Szosa Chełmińska 220".
_STREET_INSIDE = re.compile(r"[\s,]+(?=(?:ul|al|os|pl)\.\s?\w)", re.IGNORECASE)
# A phone written into a name cell: "(52) 389-70-51", "(54) 272-00-15 lub 451-76-20".
_PHONE_INSIDE = re.compile(r"[\s,]*(\(\d{2,3}\)\s?\d[\d\s\-]{5,}\d(?:\s*(?:lub|oraz|,)\s*\d[\d\s\-]{5,}\d)*)")
_NUMBER_ONLY = re.compile(r"\s*\d+\s?[a-zA-Z]?(?:\s*[,/i]\s*\d+\s?[a-zA-Z]?)*\s*,?\s*")   # "16", "448a, 448b"
_OTHER_SITE = re.compile(r"^\s*(?:z|oraz)\s+\S", re.IGNORECASE)    # "z ZTO V przy ul. Armii Krajowej 39"
_OPERATOR_LINE = re.compile(r"^\s*[/(](.{4,})[/)]\s*$")        # "/Caritas Diecezji Rzeszowskiej/"
_EPUAP = re.compile(r"^\s*/?[A-Za-z][\w.\-]*/[A-Za-z][\w.\-]*(?:\s?ESP)?/?\s*$")   # "/dpsbochnia/SkrytkaESP"
_COMMISSIONED = re.compile(r"\b(?:zlecił[ao]?|powierzył[ao]?)\b", re.IGNORECASE)
_TYPE_ABBREVIATION_LEAD = re.compile(r"^((?:ŚDS|SDS|DPS|OPS|GOPS|MOPS)(?:\s*[-–]\s*\S+)?)\s+(?:w\s+)?(\S.*\s\d+\w?)\s*,?$")
_DECISION_NOISE = re.compile(
    r"\b(?:decyzj[aiey]|nr|numer|znak|z\s+dnia|z\s+dn|dnia|roku|wojewody\s+\w+)\b\.?", re.IGNORECASE)
_DECISION_LEFTOVER = re.compile(r"(?:^|\s)(?:z|r\.?)(?=[\s,;]|$)", re.IGNORECASE)   # "… z" / "r." around a removed date


@dataclass
class RegisterRow:
    kind: str
    name: str = ""
    operator_name: str | None = None
    street: str | None = None
    building: str | None = None
    flat: str | None = None
    postal_code: str | None = None
    locality: str | None = None
    address_raw: str | None = None
    krs: str | None = None
    nip: str | None = None
    regon: str | None = None
    operator_krs: str | None = None
    operator_nip: str | None = None
    operator_regon: str | None = None
    decision_number: str | None = None
    decision_date: date | None = None
    entry_date: date | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    status: str = "active"
    phones: list[dict[str, str | None]] = field(default_factory=list)
    phones_raw: str | None = None
    email: str | None = None
    www: str | None = None
    notes: str | None = None
    warnings: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)
    row_number: int = 0
    # Lists of institutions (DPS, ŚDS, OPS, mixed support bases) say more than registers do.
    type: str | None = None                       # catalog.types code of this row
    operator_address: str | None = None
    emails: list[str] = field(default_factory=list)
    epuap: str | None = None
    e_delivery: str | None = None                 # adres do e-Doręczeń
    head: str | None = None                       # kierownik / dyrektor
    powiat_name: str | None = None
    gmina_name: str | None = None
    scope: str | None = None                      # "gmina" / "powiat": "o zasięgu powiatowym"
    home_types: list[str] = field(default_factory=list)   # DPS type codes or ŚDS types A–D
    places_total: int | None = None
    places_free: int | None = None
    residents: int | None = None
    waiting: int | None = None
    branches: list[dict[str, str | None]] = field(default_factory=list)
    as_of: date | None = None
    source_rows: list[int] = field(default_factory=list)   # table rows merged into this institution

    def to_json(self) -> dict:
        data = asdict(self)
        out = {key: data[key] for key in _JSON_KEYS}
        out["operator"] = self.operator_name
        for key in ("decision_date", "entry_date", "valid_until", "as_of"):
            out[key] = data[key].isoformat() if data[key] else None
        return {key: out[key] for key in ("name", "operator", *_JSON_KEYS[1:])}


_JSON_KEYS = (
    "name", "type", "postal_code", "locality", "street", "building", "flat", "address_raw", "krs", "nip",
    "regon", "operator_krs", "operator_nip", "operator_regon", "operator_address", "decision_number",
    "decision_date", "entry_date", "valid_until", "status", "phones", "email", "emails", "www", "epuap",
    "e_delivery", "head", "powiat_name", "gmina_name", "scope", "home_types", "places_total", "places_free",
    "residents", "waiting", "branches", "as_of", "warnings",
)


@dataclass
class _Context:
    """What section rows and title rows above a row say about it."""
    powiat: str | None = None
    scope: str | None = None
    home_types: list[str] = field(default_factory=list)
    type: str | None = None
    as_of: date | None = None


def parse_register(data: bytes, filename: str, kind: str, today: date | None = None) -> list[RegisterRow]:
    """Every institution row in a register document; raises UnreadableDocument with the reason."""
    if kind not in KINDS:
        raise ValueError(f"unknown register kind {kind!r}; expected one of {', '.join(KINDS)}")
    tables = read_tables(data, filename)
    if not tables:
        raise UnreadableDocument("nie znaleziono tabeli w dokumencie")
    return rows_from_tables(tables, kind, today or date.today(), read_leading_text(data, filename))


def rows_from_tables(tables: list[Table], kind: str, today: date, leading_text: str = "") -> list[RegisterRow]:
    """Rows of every table; `leading_text` is the document's text above its tables (a PDF title)."""
    rows: list[RegisterRow] = []
    header: Header | None = None
    found_header = False
    context = _Context(as_of=inst.as_of([leading_text]) if leading_text else None)
    for table in tables:
        own = find_header(table) or (infer_header(table) if kind not in LEGACY_KINDS else None)
        if own is not None and header is not None and kind not in LEGACY_KINDS and _weaker(own, header):
            own = None   # a data row that happens to read like labels on the next page: a continuation
        if own is not None:
            header, start = own, own.end
            context.as_of = inst.as_of(_title_texts(table, own)) or context.as_of
            if kind not in LEGACY_KINDS:
                for title_row in table[:own.start]:   # "… o zasięgu gminnym" above the header
                    section = _section_text(title_row, own)
                    if section is not None:
                        _apply_section(section, context)
        elif header is not None and len(table[0]) == len(header.labels):
            start = 0   # continuation of the previous table on the next page / sheet
        elif header is not None and kind not in LEGACY_KINDS and 0 < len(header.labels) - len(table[0]) <= 2:
            table, start = _realign(table, header), 0   # a page whose empty edge column was not drawn
        else:
            continue
        found_header = True
        rows.extend(_rows_of(table, header, start, kind, today, context))
    if not found_header:
        raise UnreadableDocument("nie rozpoznano nagłówka tabeli (brak kolumny z nazwą jednostki)")
    if kind in LEGACY_KINDS:
        return rows
    return merge_same_institutions(rows)


def _weaker(candidate: Header, current: Header) -> bool:
    return _score(candidate) < _score(current) - 1 and candidate.rows != current.rows


def _realign(table: Table, header: Header) -> Table:
    """Pad a continuation table that lost k edge columns, shifted so its e-mails or phones line up."""
    missing = len(header.labels) - len(table[0])
    anchors = [header.column(f) for f in (col.EMAIL, col.PHONE, col.POSTAL_CODE) if header.column(f) is not None]

    def fit(shift: int) -> int:
        return sum(1 for row in table for a in anchors
                   if 0 <= a - shift < len(row) and (_EMAIL.search(row[a - shift]) or _looks_like_phone(row[a - shift])))
    shift = max(range(missing + 1), key=fit)
    return [[""] * shift + row + [""] * (missing - shift) for row in table]


def _title_texts(table: Table, header: Header) -> list[str]:
    """Title rows above the header and the header's own labels ("wolne miejsca wg. 31.05.2026")."""
    texts = [cell for row in table[:header.start] for cell in dict.fromkeys(row) if cell]
    return texts + [label for label in header.labels if label]


def _rows_of(table: Table, header: Header, start: int, kind: str, today: date,
             context: _Context | None = None) -> list[RegisterRow]:
    out: list[RegisterRow] = []
    context = context or _Context()
    skipping_section = False
    index = start
    while index < len(table):
        row = table[index]
        index += 1
        if not any(row) or row in header.rows or is_column_numbers(row):
            continue
        if row_score(row) >= max(3, _score(header) - 1):   # a new header further down the table
            header = find_header(table, index - 1, 1) or header
            index = header.end if header.start == index - 1 else index
            continue
        section = _section_text(row, header)
        if section is not None:
            if kind in LEGACY_KINDS:
                section_kind = _section_kind(section)
                if section_kind is not None:   # "Powiat X" headings do not change the kind
                    skipping_section = section_kind != kind
            else:
                _apply_section(section, context)
            continue
        if skipping_section or _only_lp(row, header):
            continue
        if kind not in LEGACY_KINDS and _not_an_institution(row, header):
            continue
        parts = _split_enumerated(row, header) if kind not in LEGACY_KINDS else [row]
        out.extend(build_row(part, header, kind, today, index, context) for part in parts)
    return out


_ITEM = re.compile(r"(?:^|\n)\s*(\d{1,2})\s*\.\s*(?=\S)")


def _enumerated(cell: str) -> list[str]:
    """'1.GOPS\n2. Komisja\n3.Zespół' -> ['GOPS', 'Komisja', 'Zespół'] when numbered 1, 2, 3 … in order."""
    marks = list(_ITEM.finditer(cell))
    if len(marks) < 2 or [int(m.group(1)) for m in marks] != list(range(1, len(marks) + 1)) or marks[0].start() > 0:
        return []
    ends = [m.start() for m in marks[1:]] + [len(cell)]
    return [cell[m.end():end].strip() for m, end in zip(marks, ends, strict=True)]


def _split_enumerated(row: Row, header: Header) -> list[Row]:
    """One row listing numbered units ("1. GOPS … 2. Punkt konsultacyjny …") becomes one row per unit; a
    cell numbered the same way gives each unit its own item, any other cell is shared by all of them."""
    name_column = next((header.column(f) for f in (col.NAME, col.NAME_ADDRESS) if header.column(f) is not None), None)
    if name_column is None or name_column >= len(row):
        return [row]
    names = _enumerated(row[name_column])
    if not names:
        return [row]
    items = [_enumerated(cell) for cell in row]
    items[name_column] = [name.rstrip(" .") for name in names]   # "1.Gminny Ośrodek … w Iwkowej."
    return [[items[c][i] if len(items[c]) == len(names) else cell for c, cell in enumerate(row)]
            for i in range(len(names))]


# A merged band that reads only as the first column's label: antiword prints "lp." for a Word heading row
# whose text it cannot recover. Its powiat is unknown, so the rows under it must not inherit the previous one.
_LOST_HEADING = re.compile(r"\s*l\.?\s*p\.?\s*", re.IGNORECASE)


def _apply_section(text: str, context: _Context) -> None:
    """A section row's value applies to the rows under it: a powiat, a scope, a type of home, a type."""
    if _LOST_HEADING.fullmatch(text):
        context.powiat = None
        return
    context.as_of = inst.as_of([text]) or context.as_of
    powiat = inst.section_powiat(text)
    if powiat:
        context.powiat = powiat
        return
    scope = inst.section_scope(text)
    context.scope = scope or context.scope
    types = inst.home_types(text)
    if types:
        context.home_types = types
    kind = inst.classify(text)
    if kind or types or scope:
        context.type = kind
        context.scope = scope   # "Kluby Samopomocy" after "… o zasięgu powiatowym" starts afresh
    if not (types or scope or kind):
        context.home_types = []   # "Miejsca całodobowe": a new section that names no type of home


def _not_an_institution(row: Row, header: Header) -> bool:
    """Totals ("RAZEM", "razem miejsca gminne") and footers have no name, or a sum for a name."""
    cells = _cells(row, header)
    name = cells.get(col.NAME) or cells.get(col.NAME_ADDRESS) or cells.get(col.ADDRESS) or ""
    if not name or inst.SUMMARY.match(name):
        return True
    return any(inst.SUMMARY.match(value) for value in row if value and len(value) < 40) and not _POSTAL.search(name)


def _cells(row: Row, header: Header) -> dict[str, str]:
    cells: dict[str, str] = {}
    for field_name, value in zip(header.fields, row, strict=False):
        if field_name and value and field_name not in cells:
            cells[field_name] = value
    return cells


def _score(header: Header) -> int:
    return len({f for f in header.fields if f})


def _section_text(row: Row, header: Header) -> str | None:
    """A section heading ("Powiat X", "Kluby integracji społecznej") spans the row or sits alone."""
    values = [cell for cell in row if cell]
    if len(set(values)) != 1:
        return None
    if len(values) >= 2:
        return values[0]
    lone = row.index(values[0])
    if header.fields[lone] in (col.NAME, col.NAME_ADDRESS, col.OPERATOR) or re.fullmatch(r"\d+\.?", values[0]):
        return None
    return values[0]


def _section_kind(text: str) -> str | None:
    folded = col.fold(text)
    for kind, stems in _SECTION_KINDS:
        if all(stem in folded for stem in stems):
            return kind
    return None


def _only_lp(row: Row, header: Header) -> bool:
    filled = {header.fields[i] for i, cell in enumerate(row) if cell}
    return filled <= {col.LP, None} and not any(
        cell for i, cell in enumerate(row) if cell and header.fields[i] is None and not re.fullmatch(r"\d+\.?", cell))


def build_row(row: Row, header: Header, kind: str, today: date, row_number: int,
              context: _Context | None = None) -> RegisterRow:
    cells = _cells(row, header)
    if col.NAME not in cells and col.NAME_ADDRESS not in cells and cells.get(col.ADDRESS):
        cells[col.NAME_ADDRESS] = cells.pop(col.ADDRESS)   # "Adres ŚDS oraz filii" holds the name too
    result = RegisterRow(kind=kind, row_number=row_number, source_rows=[row_number])
    result.raw = {label or f"kolumna {i + 1}": value for i, (label, value) in enumerate(zip(header.labels, row, strict=False))}
    contact = _Contact()
    _fill_name(result, cells, contact)
    _fill_operator(result, cells)
    _fill_address(result, cells, contact)
    _fill_identifiers(result, cells)
    _fill_dates(result, cells)
    _fill_contact(result, cells, contact)
    result.notes = cells.get(col.NOTES)
    _fill_status(result, cells, today)
    if kind not in LEGACY_KINDS:
        _fill_institution(result, row, header, cells, context or _Context(), contact)
    if not result.name:
        result.warnings.append("brak nazwy jednostki w wierszu")
    return result


@dataclass
class _Contact:
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    www: list[str] = field(default_factory=list)
    address: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    epuap: list[str] = field(default_factory=list)
    branches: list[list[str]] = field(default_factory=list)
    operator: list[str] = field(default_factory=list)


def _split_lines(text: str, contact: _Contact) -> list[str]:
    """Take phones, e-mails and web addresses out of a multi-line cell; return the other lines."""
    rest = []
    for line in text.split("\n"):
        emails = _EMAIL.findall(line)
        contact.emails.extend(emails)
        line_wo_mail = _EMAIL.sub(" ", line)
        sites = _WWW.findall(line_wo_mail)
        contact.www.extend(sites)
        line_rest = _WWW.sub(" ", line_wo_mail).strip(" ,;")
        if _FAX_LINE.match(line_rest):
            continue
        if (_PHONE_LINE.match(line_rest) and re.search(r"\d", line_rest)) or _looks_like_phone(line_rest):
            contact.phones.append(line_rest)
            continue
        if _EPUAP.match(line_rest):
            contact.epuap.append(line_rest.strip())
            continue
        if line_rest and not re.fullmatch(r"(?:e-?mail|www|strona)\s*:?", line_rest, re.IGNORECASE):
            rest.append(line_rest)
    return rest


def _looks_like_phone(line: str) -> bool:
    digits = re.sub(r"\D", "", line)
    return len(digits) >= 9 and len(digits) / max(len(line.replace(" ", "")), 1) > 0.7 and not _POSTAL.search(line)


def _is_address_line(line: str) -> bool:
    return bool(_POSTAL.search(line) or _STREET_START.match(line))


def _fill_name(result: RegisterRow, cells: dict[str, str], contact: _Contact) -> None:
    text = cells.get(col.NAME) or cells.get(col.NAME_ADDRESS) or ""
    lines = _split_lines(text, contact)
    if result.kind not in LEGACY_KINDS:
        lines = _split_inline(lines, contact)
    name_lines, address_lines = split_name_address(lines)
    if result.kind not in LEGACY_KINDS:
        address_lines = _take_branches_and_operator(address_lines, contact)
    contact.address.extend(address_lines)
    labelled = find_labelled(" ".join(name_lines))
    for kind, value in labelled.items():
        cells.setdefault(kind, value)
    result.name = strip_labelled(" ".join(name_lines)) if labelled else " ".join(name_lines)


def split_name_address(lines: list[str]) -> tuple[list[str], list[str]]:
    """Name lines (a long name may wrap) and the address lines that follow them in one cell."""
    first = next((i for i, line in enumerate(lines) if _is_address_line(line)), len(lines))
    name, address = lines[:first], lines[first:]
    # A rural address has no "ul." and no postal code on its first line: "Makietowo 15".
    while len(name) > 1 and _HOUSE_NUMBER_END.search(name[-1]):
        address.insert(0, name.pop())
    return name, address


def _split_inline(lines: list[str], contact: _Contact) -> list[str]:
    """Cut phones and streets written into a name line onto lines of their own."""
    out: list[str] = []
    for line in lines:
        phones = _PHONE_INSIDE.findall(line)
        if phones:
            contact.phones.extend(p.strip() for p in phones)
            line = _PHONE_INSIDE.sub(" ", line).strip(" ,;")
        lead = _TYPE_ABBREVIATION_LEAD.match(line)
        if lead:                                # "ŚDS Jelcza 219," -> "ŚDS" + "Jelcza 219"
            out.extend([lead.group(1), lead.group(2)])
            continue
        # "…, ul. Nadgórna 30/32 oraz ul. Dywizjonu 303 nr 4": every street on its own line, no "oraz".
        parts = [re.sub(r"\s+(?:oraz|i|lub)$", "", part.strip(" ,")) for part in _STREET_INSIDE.split(line)]
        parts = [part for part in parts if part]
        out.extend(_split_rural_tail(parts))
    return out


def _split_rural_tail(parts: list[str]) -> list[str]:
    """'w Wapiennem, Wapienne 70': a name's last words, then a rural address after the comma."""
    out: list[str] = []
    for part in parts:
        head, _, tail = part.rpartition(",")
        if head.strip() and _HOUSE_NUMBER_END.search(tail) and not _HOUSE_NUMBER_END.search(head) \
                and not _POSTAL.search(part):
            out.extend([head.strip(), tail.strip()])
        else:
            out.append(part)
    return out


def _take_branches_and_operator(lines: list[str], contact: _Contact) -> list[str]:
    """Address lines of the home itself; a "z filią w …" block becomes a branch, "/Caritas …/" the operator.

    After the home's own postal-code line, a line that is not an address starts a new block (a second
    site, e.g. "Dom Pomocy Społecznej Sucharskiego - Filia")."""
    own: list[str] = []
    current: list[str] | None = None
    seen_postal = False
    for line in lines:
        operator = _OPERATOR_LINE.match(line)
        if operator and (seen_postal or line.strip().startswith("/")):
            contact.operator.append(operator.group(1).strip())
            continue
        starts_block = inst.BRANCH_LINE.search(line) or (
            seen_postal and current is None and not _is_address_line(line) and not _HOUSE_NUMBER_END.search(line)
            and not _NUMBER_ONLY.fullmatch(line))
        starts_block = starts_block or (own and _OTHER_SITE.match(line) and not _is_address_line(line))
        if starts_block and current is not None and not any(_is_address_line(x) for x in current):
            current.append(line)   # "Dom Pomocy Społecznej" + "Sucharskiego - Filia": one branch's name
            continue
        if starts_block:
            current = [line]
            contact.branches.append(current)
            continue
        if current is not None:
            current.append(line)
        else:
            own.append(line)
            seen_postal = seen_postal or bool(_POSTAL.search(line))
    return own


def _join_wrapped_numbers(lines: list[str]) -> list[str]:
    """A house number wrapped onto its own line ("ul. Św. Br. A. Chmielowskiego" / "16") rejoins its street."""
    out: list[str] = []
    for line in lines:
        if out and _NUMBER_ONLY.fullmatch(line) and not _POSTAL.search(out[-1]):
            out[-1] = f"{out[-1].rstrip(' ,')} {line.strip(' ,')}"
        else:
            out.append(line)
    return out


def _fill_operator(result: RegisterRow, cells: dict[str, str]) -> None:
    text = cells.get(col.OPERATOR) or cells.get("operator_name_address") or ""
    if not text:
        return
    ignored = _Contact()
    if result.kind not in LEGACY_KINDS:
        # "prowadzony przez samorząd (P) / na zlecenie (NP)" is also an operator column: take the fuller one.
        fuller = max((cells.get(col.OPERATOR) or "", cells.get("operator_name_address") or ""), key=len)
        _fill_operator_of_list(result, fuller)
        return
    lines = [line for line in _split_lines(text, ignored) if not _is_address_line(line)]
    for kind, value in find_labelled(text).items():
        cells.setdefault(f"operator_{kind}", value)
    name = strip_labelled(" ".join(lines))
    result.operator_name = name or None


def _fill_address(result: RegisterRow, cells: dict[str, str], contact: _Contact) -> None:
    for key in (col.ADDRESS, col.CONTACT):
        if cells.get(key):
            contact.address.extend(_split_lines(cells[key], contact))
    parts = [line for line in contact.address if line]
    if result.kind not in LEGACY_KINDS:
        parts = _join_wrapped_numbers(parts)
    if not parts:
        parts = [cells[key] for key in (col.STREET, col.BUILDING, col.POSTAL_CODE, col.LOCALITY) if cells.get(key)]
    result.address_raw = ", ".join(parts) or None
    parsed = parse_address(result.address_raw) if result.address_raw else None
    for key in ("street", "building", "flat", "postal_code", "locality"):
        value = cells.get(key) or (getattr(parsed, key, None) if parsed else None)
        setattr(result, key, value or None)
    if result.postal_code:
        digits = re.sub(r"\D", "", result.postal_code)
        result.postal_code = f"{digits[:2]}-{digits[2:]}" if len(digits) == 5 else result.postal_code


def _fill_identifiers(result: RegisterRow, cells: dict[str, str]) -> None:
    for prefix in ("", "operator_"):
        if cells.get(f"{prefix}ids"):
            for kind, value in find_labelled(cells[f"{prefix}ids"]).items():
                cells.setdefault(f"{prefix}{kind}", value)
        for kind in ("krs", "nip", "regon"):
            value, warning = check_identifier(kind, cells.get(f"{prefix}{kind}"))
            setattr(result, f"{prefix}{kind}", value)
            if warning:
                result.warnings.append(warning + (" (podmiot prowadzący)" if prefix else ""))


def _fill_dates(result: RegisterRow, cells: dict[str, str]) -> None:
    if cells.get(col.DECISION):
        result.decision_number, result.decision_date = split_decision(cells[col.DECISION])
    if cells.get(col.DECISION_NUMBER):
        result.decision_number = _clean_decision_number(cells[col.DECISION_NUMBER]) or result.decision_number
    if cells.get(col.DECISION_DATE):
        result.decision_date = _latest(cells[col.DECISION_DATE]) or result.decision_date
    result.entry_date = parse_date(cells.get(col.ENTRY_DATE))
    result.valid_from = parse_date(cells.get(col.VALID_FROM))
    for key in (col.DECISION, col.DECISION_DATE, col.ENTRY_DATE):
        if cells.get(key) and not find_dates(cells[key]):
            result.warnings.append(f"nie rozpoznano daty: {cells[key]!r}")


def split_decision(text: str) -> tuple[str | None, date | None]:
    """'Decyzja nr PS-II.9421.3.2021 z dnia 12.03.2021 r.' -> ('PS-II.9421.3.2021', 2021-03-12).

    A cell listing renewals ("1) … z 12.03.2016; 2) … z 10.03.2021") yields the newest decision."""
    best: tuple[str | None, date | None] = (None, None)
    for part in re.split(r"\n|;|(?<!\S)\d\)\s", text):
        dates = find_dates(part)
        when = max((d for _, _, d in dates), default=None)
        number = _clean_decision_number(part)
        if when and (best[1] is None or when >= best[1]):
            best = (number, when)
        elif best == (None, None) and number:
            best = (number, None)
    return best


def _clean_decision_number(text: str) -> str | None:
    dates = find_dates(text)
    for start, end, _ in reversed(dates):
        text = text[:start] + " " + text[end:]
    text = _DECISION_LEFTOVER.sub(" ", _DECISION_NOISE.sub(" ", text))
    text = re.sub(r"\s+", " ", text).strip(" ,;:-–—()")
    return text or None


def _latest(text: str) -> date | None:
    dates = [d for _, _, d in find_dates(text)]
    return max(dates) if dates else None


def _fill_contact(result: RegisterRow, cells: dict[str, str], contact: _Contact) -> None:
    phone_texts = [cells[col.PHONE]] if cells.get(col.PHONE) else []
    phone_texts += contact.phones
    result.phones_raw = "; ".join(phone_texts) or None
    result.phones = normalise_phones(" ; ".join(phone_texts)) if phone_texts else []
    emails = _EMAIL.findall(cells.get(col.EMAIL, "")) + contact.emails
    result.email = emails[0].lower() if emails else None
    sites = _WWW.findall(cells.get(col.WWW, "")) + contact.www
    result.www = sites[0] if sites else (cells.get(col.WWW) or None)


def _fill_status(result: RegisterRow, cells: dict[str, str], today: date) -> None:
    start, end, open_ended = parse_period(cells.get(col.VALID))
    if end is None and not open_ended and _VALID_IN_NOTES.search(cells.get(col.NOTES, "")):
        start, end, open_ended = parse_period(cells[col.NOTES])   # "status ważny do 01.09.2027 r."
    result.valid_from = result.valid_from or start
    result.valid_until = end
    if result.kind == "cis" and end is None and not open_ended:
        _default_cis_validity(result)
    status_text = col.fold(" ".join(cells.get(key, "") for key in (col.NOTES, col.CLOSED_DATE)))
    if cells.get(col.CLOSED_DATE) or any(marker in status_text for marker in _CLOSED_MARKERS):
        result.status = "closed"
    elif any(marker in status_text for marker in _EXPIRED_MARKERS) or (
            result.valid_until is not None and result.valid_until < today):
        result.status = "expired"
    else:
        result.status = "active"


def _fill_operator_of_list(result: RegisterRow, text: str) -> None:
    """'Burmistrz Biecza zlecił Stowarzyszeniu … ul. Kazimierza Wielkiego 31 38-340 Biecz': the runner and
    its address. Who commissioned it stays in the raw cell."""
    commissioned = _COMMISSIONED.split(text, maxsplit=1)
    runner = commissioned[-1] if len(commissioned) > 1 else text
    name_lines: list[str] = []
    address_lines: list[str] = []
    for line in _split_inline(_split_lines(runner, _Contact()), _Contact()):
        if address_lines or _is_address_line(line) or (name_lines and _HOUSE_NUMBER_END.search(line)):
            address_lines.append(line)
        else:
            name_lines.append(line)
    name = " ".join(" ".join(name_lines).split()).strip(" ,;()")
    result.operator_name = strip_labelled(name) or None
    result.operator_address = ", ".join(line.strip(" ,()") for line in address_lines) or None


def _fill_institution(result: RegisterRow, row: Row, header: Header, cells: dict[str, str], context: _Context,
                      contact: _Contact) -> None:
    """Type, home types, places, units, e-addresses and branches of a list of institutions."""
    own_type = inst.classify(result.name)
    if result.kind in MIXED_KINDS:
        result.type = own_type or context.type or InstitutionType.OTHER.value
    else:
        result.type = own_type or context.type or result.kind
    result.as_of = context.as_of
    result.scope = context.scope
    cell_types = cells.get(col.HOME_TYPE)
    result.home_types = (inst.sds_types(cell_types) or inst.home_types(cell_types)) if cell_types else []
    if not result.home_types and result.type in (InstitutionType.DPS.value, InstitutionType.SDS.value):
        result.home_types = list(context.home_types)
    result.places_total = inst.places(_count_cell(row, header, col.PLACES, cells))
    result.places_free = inst.count(_count_cell(row, header, col.PLACES_FREE, cells))
    result.residents = inst.count(_count_cell(row, header, col.RESIDENTS, cells))
    result.waiting = inst.count(_count_cell(row, header, col.WAITING, cells))
    gmina, powiat_of_gmina = inst.unit_name(cells.get(col.GMINA))
    powiat, _ = inst.unit_name(cells.get(col.POWIAT))
    result.gmina_name = gmina
    result.powiat_name = powiat or powiat_of_gmina or context.powiat
    result.emails = list(dict.fromkeys(e.lower() for e in _EMAIL.findall(cells.get(col.EMAIL, "")) + contact.emails))
    result.email = result.emails[0] if result.emails else result.email
    epuap = [cells[col.EPUAP]] if cells.get(col.EPUAP) else contact.epuap
    result.epuap = epuap[0].strip() if epuap else None
    result.e_delivery = cells.get(col.E_DELIVERY) or None
    result.head = " ".join(cells[col.HEAD].split()) if cells.get(col.HEAD) else None
    if contact.operator and not result.operator_name:
        result.operator_name = contact.operator[0]
    result.branches = [_branch(lines) for lines in contact.branches]


def _count_cell(row: Row, header: Header, field_name: str, cells: dict[str, str]) -> str | None:
    """A count field's value; under a merged label over month columns, the latest month filled in."""
    columns = header.groups.get(field_name, [])
    if len(columns) > 1:
        filled = [row[i] for i in columns if i < len(row) and row[i].strip()]
        return filled[-1] if filled else None
    return cells.get(field_name)


def _branch(lines: list[str]) -> dict[str, str | None]:
    first = inst.branch_lead(lines[0])
    address_lines = ([first] if first else []) + lines[1:]
    label = [lines[0]]
    while len(address_lines) > 1 and not (_is_address_line(address_lines[0]) or _HOUSE_NUMBER_END.search(address_lines[0])):
        popped = address_lines.pop(0)    # "Dom Pomocy Społecznej" / "Sucharskiego - Filia": its name
        if popped != first:              # the rest of the "z filią w Gorlicach" line is in the label already
            label.append(popped)
    raw = ", ".join(line.strip(" ,") for line in address_lines) or None
    parsed = parse_address(raw) if raw else None
    return {
        "label": " ".join(" ".join(label).split()),
        "address_raw": raw,
        "street": parsed.street if parsed else None,
        "building": parsed.building if parsed else None,
        "postal_code": parsed.postal_code if parsed else None,
        "locality": parsed.locality if parsed else None,
    }


def merge_same_institutions(rows: list[RegisterRow]) -> list[RegisterRow]:
    """One institution listed on several rows (a second type of home, its 24-hour places, a repeat under
    another section) becomes one row: home types joined, places added only for a new type of home."""
    merged: dict[tuple, list[RegisterRow]] = {}
    out: list[RegisterRow] = []
    for row in rows:
        candidates = merged.setdefault(_identity(row), [])
        first = next((c for c in candidates if not _conflicts(c, row)), None)
        if first is None:
            candidates.append(row)
            out.append(row)
            continue
        _absorb(first, row)
    return out


def _conflicts(first: RegisterRow, other: RegisterRow) -> bool:
    """Two homes at one address (a gmina's and a powiat's ŚDS) differ in their own e-addresses or head."""
    return any(getattr(first, key) and getattr(other, key) and col.fold(getattr(first, key)) != col.fold(getattr(other, key))
               for key in ("epuap", "e_delivery", "head"))


def _identity(row: RegisterRow) -> tuple:
    where = (row.postal_code, col.fold(row.street or ""), (row.building or "").lower(), col.fold(row.locality or ""))
    if not any(where):   # a list without addresses: the phone tells two homes of one name apart
        where = tuple(sorted(p["e164"] or p["raw"] or "" for p in row.phones))
    return (row.type, col.fold(row.name), where)


def _absorb(first: RegisterRow, other: RegisterRow) -> None:
    new_types = [t for t in other.home_types if t not in first.home_types]
    if new_types:
        first.home_types.extend(new_types)
        for key in ("places_total", "places_free", "residents", "waiting"):
            extra = getattr(other, key)
            if extra is not None:
                setattr(first, key, (getattr(first, key) or 0) + extra)
    for phone in other.phones:
        if phone not in first.phones:
            first.phones.append(phone)
    for email in other.emails:
        if email not in first.emails:
            first.emails.append(email)
    first.source_rows.extend(other.source_rows)


def _default_cis_validity(result: RegisterRow) -> None:
    """CIS status is granted for 5 years from the decision (art. 5 of the social employment act)."""
    basis = result.decision_date or result.entry_date
    if basis is None:
        result.warnings.append("brak daty decyzji — nie można ustalić ważności statusu CIS")
        return
    if result.decision_date is None:
        result.warnings.append("brak daty decyzji — ważność statusu liczona od daty wpisu")
    result.valid_until = add_years(basis, CIS_STATUS_YEARS)
