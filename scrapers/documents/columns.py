"""Header labels -> field names, by fuzzy Polish labels.

Registers of the 16 offices label the same column in many ways ("Nr i data decyzji", "Decyzja
wojewody (znak, z dnia)", "Instytucja tworząca / NIP", "Aders siedziby"). A label is folded (lower
case, no diacritics, no punctuation), each longer word is snapped to the closest known word
(rapidfuzz, so typos and missing Polish letters still match), and then ordered rules on the words
pick the field. Combined labels from multi-row headers ("Instytucja tworząca / NIP") carry the
operator context of the parent label into the child's field (-> operator_nip)."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz import fuzz, process

# Fields a column can map to. Only some end up in RegisterRow; the others stay in RegisterRow.raw.
LP = "lp"
NAME = "name"
NAME_ADDRESS = "name_address"
ADDRESS = "address"
CONTACT = "contact"
OPERATOR = "operator"
DECISION = "decision"                 # number and date in one cell
DECISION_NUMBER = "decision_number"
DECISION_DATE = "decision_date"
ENTRY_DATE = "entry_date"
REGISTER_NUMBER = "register_number"
VALID = "valid"                       # a validity period or its end
VALID_FROM = "valid_from"
CLOSED_DATE = "closed_date"
STARTED = "started"
IDS = "ids"                           # several identifiers in one column
KRS, NIP, REGON = "krs", "nip", "regon"
PHONE, EMAIL, WWW = "phone", "email", "www"
NOTES = "notes"
POSTAL_CODE, LOCALITY, STREET, BUILDING, FLAT = "postal_code", "locality", "street", "building", "flat"
ADMIN = "admin"                       # województwo and other administrative columns
POWIAT, GMINA = "powiat", "gmina"
HOME_TYPE = "home_type"               # "typ domu" of a DPS / ŚDS
PLACES, PLACES_FREE = "places", "places_free"
RESIDENTS, WAITING = "residents", "waiting"
EPUAP, E_DELIVERY = "epuap", "e_delivery"
HEAD = "head"                         # kierownik / dyrektor
COUNT_FIELDS = frozenset({PLACES, PLACES_FREE, RESIDENTS, WAITING})
ENTITY_FIELDS = frozenset({NAME, NAME_ADDRESS, OPERATOR, ADDRESS, "operator_name_address"})

_DECISION = {"decyzja", "decyzji", "decyzje", "decyzjach", "dec", "postanowienie", "postanowienia"}
_NUMBER = {"numer", "nr", "sygnatura", "sygn", "znak", "oznaczenie"}
_DATE = {"data", "daty", "dnia", "dzien", "wydania", "wydana"}
_VALID = {"waznosci", "waznosc", "wazny", "wazna", "wazne", "obowiazywania", "obowiazuje", "uplywu"}
_ENTRY = {"wpisu", "wpis", "wpisania", "rejestracji", "zarejestrowania", "rejestrze"}
_OPERATOR = {
    "tworzaca", "tworzacej", "tworzacy", "tworzacego", "tworzace", "prowadzacy", "prowadzacego",
    "prowadzaca", "prowadzacej", "prowadzace", "zalozyciel", "zalozyciela", "wnioskodawca",
    "wnioskodawcy", "lider", "lidera", "operator",
}
_NAME = {
    "nazwa", "nazwy", "jednostki", "jednostka", "centrum", "klubu", "klub", "cis", "kis", "zaz", "wtz",
    "owes", "zakladu", "zaklad", "warsztatu", "warsztat", "osrodka", "osrodek", "pelna", "podmiotu",
    "podmiot", "przedsiebiorstwa", "przedsiebiorstwo", "instytucji", "instytucja", "placowki", "placowka",
}
_ADDRESS = {"adres", "adresu", "adresy", "siedziba", "siedziby", "lokalizacja", "lokalizacji", "adresowe"}
_CONTACT = {"teleadresowe", "kontaktowe", "kontakt", "kontaktu", "teleadresowy"}
_PHONE = {"telefon", "telefonu", "telefony", "telefoniczny", "tel", "komorkowy", "komorka"}
_EMAIL = {"email", "mail", "elektroniczna", "elektronicznej", "emaila", "mailowy", "mailowa"}
_EPUAP = {"epuap", "skrytki", "skrytka"}
_WWW = {"www", "strona", "strony", "internetowa", "internetowej", "url", "witryna"}
_NOTES = {"uwagi", "uwaga", "status", "statusu", "adnotacje", "informacje", "stan"}
_CLOSED = {"zakonczenia", "likwidacji", "wykreslenia", "wykreslono", "zamkniecia", "skreslenia"}
_STARTED = {"rozpoczecia", "utworzenia", "powstania", "uruchomienia"}
_ADMIN = {"wojewodztwo", "wojewodztwa"}
_POWIAT = {"powiat", "powiatu", "starostwo"}
_GMINA = {"gmina", "gminy", "miasto"}
_PLACES = {"miejsc", "miejsca", "ilosc", "liczba"}
_HEAD = {"kierownik", "dyrektor", "kierownika", "dyrektora"}
_LP = {"lp", "l", "p", "nr", "porz", "porzadkowy", "poz", "pozycja", "numer", "n", "lplp"}
_IDS = {"krs": KRS, "nip": NIP, "regon": REGON}

VOCABULARY = sorted(
    _DECISION | _NUMBER | _DATE | _VALID | _ENTRY | _OPERATOR | _NAME | _ADDRESS | _CONTACT | _PHONE
    | _EMAIL | _WWW | _NOTES | _CLOSED | _STARTED | _ADMIN | _POWIAT | _GMINA | _PLACES | _HEAD | _EPUAP
    | set(_IDS) | {"typ", "wolnych", "mieszkancow", "oczekujacych", "edoreczenia"}
    | {"kod", "pocztowy", "pocztowa", "miejscowosc", "miejscowosci", "miasto", "ulica", "budynku", "domu",
       "lokalu", "mieszkania", "nadania", "przyznania", "okres", "termin", "od", "do", "integracji",
       "spolecznej", "aktywnosci", "zawodowej", "fax", "faks"}
)
_SNAP_CUTOFF = 78


def fold(text: str) -> str:
    """Lower case, no Polish diacritics, words only: 'Okres ważności' -> 'okres waznosci'."""
    text = text.replace("ł", "l").replace("Ł", "L")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    text = re.sub(r"\be[\s\-\u2010\u2011]+(?=m)", "e", text)   # "e-mail" / "e - mail" -> "email"
    text = re.sub(r"\bl\.\s*p\.?", "lp", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


@lru_cache(maxsize=4096)
def _snap(word: str) -> str:
    if len(word) < 4 or word.isdigit():
        return word
    match = process.extractOne(word, VOCABULARY, scorer=fuzz.ratio, score_cutoff=_SNAP_CUTOFF)
    return match[0] if match else word


def words(label: str) -> list[str]:
    return [_snap(word) for word in fold(label).split()]


@lru_cache(maxsize=4096)
def map_label(label: str) -> str | None:
    """The field a header label stands for, or None when we do not know it."""
    tokens = set(words(label[:90]))   # long labels explain themselves after the first words
    if not tokens:
        return None
    base = _base_field(tokens - _OPERATOR)
    if tokens & _OPERATOR:
        return _operator_field(base)
    return base


def _operator_field(base: str | None) -> str | None:
    if base in (KRS, NIP, REGON, IDS, ADDRESS, CONTACT, PHONE, EMAIL, WWW, NAME_ADDRESS):
        return f"operator_{base}"
    if base in (None, NAME, LP):
        return OPERATOR
    return base


def _base_field(t: set[str]) -> str | None:   # one flat list of ordered rules reads best
    ids = [field for word, field in _IDS.items() if word in t]
    early = _home_and_count_field(t)
    if early:
        return early
    if len([group for group in (_PHONE, _EMAIL, _EPUAP, _CONTACT) if t & group]) >= 2:
        return CONTACT   # "dane teleadresowe (nr telefonu, adres e-mail, e-PUAP)"
    if t & _EPUAP:
        return EPUAP
    if "edoreczenia" in t:
        return E_DELIVERY
    if t & _PHONE and t & {"nazwa", "nazwy"}:
        return NAME      # "Nazwa Domu Pomocy Społecznej, telefon": the name cell carries the phone
    if t & _EMAIL:
        return EMAIL
    if t & _WWW:
        return WWW
    if len(ids) > 1:
        return IDS
    if ids:
        return ids[0]
    if t & _PHONE and not t & _ADDRESS:
        return PHONE
    if t & _DECISION or {"nadania", "przyznania"} & t:
        return _decision_field(t)
    if t & _VALID:
        return VALID_FROM if "od" in t and "do" not in t else VALID
    if t & _ENTRY:
        return REGISTER_NUMBER if t & _NUMBER and not t & _DATE else ENTRY_DATE
    if t & _CLOSED:
        return CLOSED_DATE
    if t & _STARTED:
        return STARTED
    if "kod" in t:
        return POSTAL_CODE
    if t & _CONTACT or (t & _PHONE and t & _ADDRESS):
        return CONTACT
    if t & _ADDRESS:
        return NAME_ADDRESS if t & {"nazwa", "nazwy"} else ADDRESS
    if t & {"miejscowosc", "miejscowosci", "miasto"}:
        return LOCALITY
    if "ulica" in t:
        return STREET
    if t & {"budynku", "domu"}:
        return BUILDING
    if t & {"lokalu", "mieszkania"}:
        return FLAT
    if t & _NOTES or {"okres", "termin"} & t:
        return VALID if {"okres", "termin"} & t else NOTES
    if t & _ADMIN:
        return ADMIN
    if t & _HEAD:
        return HEAD
    if t & _POWIAT:
        return POWIAT
    if t & _GMINA:
        return GMINA
    if t & _NAME:
        return NAME
    if t <= _LP:
        return LP
    return None


def _home_and_count_field(t: set[str]) -> str | None:
    """DPS / ŚDS lists: "typ domu", "liczba miejsc", "ilość wolnych miejsc", "liczba mieszkańców"."""
    counted = bool(t & {"miejsc", "miejsca"} and t & {"liczba", "ilosc"})
    if "typ" in t and t & {"domu", "dom"} and not counted:
        return HOME_TYPE
    if not t & (_NAME | _ADDRESS | {"nazwa", "nazwy"}):
        if t & {"gmina", "gminy"}:
            return GMINA    # "Miasto/Gmina", before the "miasto" of a locality column
        if t & {"powiat", "powiatu"}:
            return POWIAT
    if "wolnych" in t:
        return PLACES_FREE
    if "oczekujacych" in t:
        return WAITING
    if "mieszkancow" in t and t & _PLACES:
        return RESIDENTS
    if t & {"miejsc", "miejsca"} and not t & (_NAME | _ADDRESS):
        return PLACES
    return None


def _decision_field(t: set[str]) -> str:
    has_number, has_date = bool(t & _NUMBER), bool(t & (_DATE | {"nadania", "przyznania"}))
    if has_number and has_date:
        return DECISION
    if has_number:
        return DECISION_NUMBER
    if has_date:
        return DECISION_DATE
    return DECISION


def map_header(labels: list[str]) -> list[str | None]:
    """Field per column; when two columns claim the same field the first keeps it."""
    seen: set[str] = set()
    fields: list[str | None] = []
    for label in labels:
        field = map_label(label) if label else None
        if field in seen and field not in (ADMIN,):
            field = None
        if field:
            seen.add(field)
        fields.append(field)
    return fields
