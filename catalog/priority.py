"""Which source wins each Institution field when several sources give a value.

Registers of the wojewodas are the legal source of status, validity, decisions and operators; RJPS is
the richest source of contacts and coordinates. A source key matches an entry by prefix, so
"cis-kis" covers all 16 "cis-kis-NN" registers. Sources not listed rank last; ties go to the value
seen most recently."""
from __future__ import annotations

from datetime import date
from typing import Protocol

from catalog.models import PLACES_FIELDS

# The wojewodas' own lists (DPS registers, ŚDS and OPS lists) are official like the CIS/KIS registers; they
# rank after RJPS for contacts (RJPS is refreshed by the units themselves) but before the other sources.
OFFICIAL_LISTS = ("dps", "sds", "ops", "list")
# "user-report": a resident's correction an operator verified (catalog/reports.py). It is the newest word on
# contacts; on legal facts the registers still speak first.
LEGAL_FIRST = ("cis-kis", *OFFICIAL_LISTS, "user-report", "owes", "pup", "rjps", "demo")
CONTACT_FIRST = ("user-report", "rjps", *OFFICIAL_LISTS, "pup", "owes", "cis-kis", "demo")

_LEGAL_FIELDS = {
    "status", "valid_from", "valid_until", "decision_number", "decision_date", "register_number",
    "operator_name", "operator_krs", "operator_nip", "operator_regon", "krs", "nip", "regon",
    "service_area", "partners",
}


def ranking(field: str) -> tuple[str, ...]:
    return LEGAL_FIRST if field in _LEGAL_FIELDS else CONTACT_FIRST


# Values a stage derived (catalog.derived: geography) rank after every source, listed or not.
DERIVED_SOURCES = ("geo",)


def rank(field: str, source: str) -> int:
    """Lower is better."""
    order = ranking(field)
    if source in DERIVED_SOURCES:
        return len(order) + 1
    for i, prefix in enumerate(order):
        if source == prefix or source.startswith(prefix + "-"):
            return i
    return len(order)


class _Row(Protocol):
    field: str
    source: str
    source_key: str
    source_updated_at: date | None
    last_seen: object


def _key(row: _Row) -> tuple:
    return (rank(row.field, row.source), -row.last_seen.timestamp())


def choose(rows: list[_Row]) -> dict[str, _Row]:
    """The winning provenance row of each field among the current rows of one institution.

    Places, free places and their date are one dated observation: the newest `source_updated_at` wins
    the three together (from the same source record), whatever the source's rank, because free places
    from March are wrong in June; ties go to the usual ranking."""
    best: dict[str, _Row] = {}
    for row in rows:
        if row.field in PLACES_FIELDS:
            continue
        current = best.get(row.field)
        if current is None or _key(row) < _key(current):
            best[row.field] = row
    places = [row for row in rows if row.field in PLACES_FIELDS]
    if places:
        newest = min(places, key=lambda row: (-(row.source_updated_at or date.min).toordinal(), _key(row)))
        for row in places:
            if (row.source, row.source_key) == (newest.source, newest.source_key):
                best[row.field] = row
    return best


def keeps_newer(field: str, current_as_of: date | None, incoming_as_of: date | None) -> bool:
    """True when a source's stored places observation is newer than the one being written: an older
    document imported later (a file downloaded by hand months ago) must not roll free places back."""
    if field not in PLACES_FIELDS or current_as_of is None:
        return False
    return incoming_as_of is None or incoming_as_of < current_as_of
