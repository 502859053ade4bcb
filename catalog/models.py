"""Catalog tables (HSDS-inspired: an Institution is an organization with its location and service).

Data flow: a source adapter emits SourceItems -> merge writes SourceRecord (one per source identity),
Institution (the merged view), FieldProvenance (who said what, when) and ChangeLog (field history).
Every ScrapeRun is recorded; RawCapture points at the exact bytes a record was parsed from.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC now: sqlmodel's UTCDateTime columns store UTC and return aware datetimes on every backend."""
    return datetime.now(UTC)


def _json(default: Any = None) -> Any:
    return Field(default_factory=(lambda: list(default or [])), sa_column=Column(JSON, nullable=False))


# Fields of Institution that a source may supply; merge, provenance and export iterate over this list.
INSTITUTION_DATA_FIELDS: tuple[str, ...] = (
    "name", "type", "type_raw", "operator_name", "operator_krs", "operator_nip", "operator_regon",
    "rjps_id", "krs", "nip", "regon", "register_number",
    "street", "building", "flat", "postal_code", "locality", "address_raw",
    "woj_teryt", "powiat_teryt", "gmina_id6",
    "lat", "lon", "geo_precision", "geo_source",
    "phones", "phones_raw", "email", "www",
    "service_tags", "target_groups", "service_area",
    "status", "valid_from", "valid_until", "decision_number", "decision_date",
    "source_updated_at", "partners", "parent_id", "notes",
    "places_total", "places_free", "places_as_of", "epuap", "home_types", "head",
)

# Places and free places are one dated observation ("stan na 30 czerwca 2026"): catalog.priority lets the
# newest `places_as_of` win the three together, so an older document imported later never rolls them back.
PLACES_FIELDS: tuple[str, ...] = ("places_total", "places_free", "places_as_of")


class Institution(SQLModel, table=True):
    __table_args__ = (
        # Spatial and territorial look-ups (geo.resolve): "the nearest CIS/WTZ/..." reads a type's points in a
        # lat/lon box from the index alone (status included: closed units are left out without a table
        # read), the competent offices come by gmina/powiat and type. See bench/spatial.py.
        Index("ix_institution_type_point", "type", "lat", "lon", "status"),
        Index("ix_institution_gmina_type", "gmina_id6", "type"),
        Index("ix_institution_powiat_type", "powiat_teryt", "type"),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    type: str = Field(index=True, description="catalog.types.InstitutionType value")
    type_raw: str | None = None
    operator_name: str | None = None      # podmiot prowadzący
    operator_krs: str | None = None
    operator_nip: str | None = None
    operator_regon: str | None = None
    rjps_id: str | None = Field(default=None, index=True)
    krs: str | None = Field(default=None, index=True)
    nip: str | None = Field(default=None, index=True)
    regon: str | None = Field(default=None, index=True)
    register_number: str | None = None
    street: str | None = None             # "ul. Rynek"
    building: str | None = None           # "8"
    flat: str | None = None
    postal_code: str | None = Field(default=None, index=True)   # NN-NNN
    locality: str | None = None
    address_raw: str | None = None
    woj_teryt: str | None = Field(default=None, index=True)     # 2 digits
    powiat_teryt: str | None = Field(default=None, index=True)  # 4 digits
    gmina_id6: str | None = Field(default=None, index=True)     # 6 digits (stable across RODZ changes)
    teryt_method: str | None = None       # explicit / postcode / locality / name / pip
    teryt_flag: str | None = None         # set when address and point disagree (needs review)
    lat: float | None = None
    lon: float | None = None
    geo_precision: str | None = None      # catalog.types.Precision value
    geo_source: str | None = None         # which source / geocoder produced the point
    phones: list[dict] = _json()             # [{"raw": "85 7188100", "e164": "+48857188100"}]
    phones_raw: str | None = None
    email: str | None = None
    www: str | None = None
    service_tags: list[str] = _json()
    target_groups: list[str] = _json()
    service_area: list[str] = _json()        # TERYT codes of the units served (OWES, PUP)
    partners: list[dict] = _json()           # consortium partners (OWES): [{"name":..., "role":...}]
    parent_id: int | None = Field(default=None, foreign_key="institution.id")   # branch (filia) -> seat
    status: str = Field(default="active", index=True)
    valid_from: date | None = None
    valid_until: date | None = None
    decision_number: str | None = None
    decision_date: date | None = None
    source_updated_at: date | None = None   # e.g. RJPS "data aktualizacji"
    notes: str | None = Field(default=None, sa_column=Column(Text))
    # From the official lists (DPS, ŚDS): places and free places as of a date, the ePUAP inbox, the types
    # of home (DPS type codes or ŚDS types A–D) and the head of the institution.
    places_total: int | None = None
    places_free: int | None = None
    places_as_of: date | None = None
    epuap: str | None = None
    home_types: list[str] = _json()
    head: str | None = None
    is_demo: bool = Field(default=False, index=True)
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)   # last change in our catalog


class Source(SQLModel, table=True):
    key: str = Field(primary_key=True)       # "rjps", "owes", "pup", "cis-kis-12", "demo"
    name: str
    url: str | None = None
    licence: str | None = None
    attribution: str | None = None
    last_run_id: int | None = None
    last_success_at: datetime | None = None
    last_data_date: date | None = None    # newest "updated at source" date seen


class ScrapeRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    # running | ok | partial (some units failed) | degraded (mass removals withheld, see `degraded`)
    # | failed (nothing applied) | interrupted
    status: str = Field(default="running", index=True)
    complete: bool = False                   # the listing was complete, so absences count as "missing"
    n_in: int = 0
    n_new: int = 0
    n_changed: int = 0
    n_unchanged: int = 0
    n_missing: int = 0
    n_errors: int = 0
    errors: list[dict] = _json()             # [{"where": "unit 123", "message": "HTTP 500"}]
    message: str | None = None
    # Fields whose mass disappearance the merge refused to apply (catalog.merge.degraded_fields):
    # [{"field": "email", "before": 2000, "gone": 2000, "share": 1.0}]
    degraded: list[dict] = _json()
    # Non-fatal warnings of the ingest-time cleaning (catalog.clean): [{"where": ..., "message": ...}]
    notes: list[dict] = _json()


class SourceRecord(SQLModel, table=True):
    """One record as one source knows it (source identity -> institution)."""
    __table_args__ = (UniqueConstraint("source", "source_key"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    source_key: str
    institution_id: int = Field(foreign_key="institution.id", index=True)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    raw: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_hash: str | None = None
    capture_id: int | None = Field(default=None, foreign_key="rawcapture.id")
    source_updated_at: date | None = None
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    last_run_id: int | None = None
    missing_runs: int = 0                    # consecutive complete runs without this record
    # How this record was attached to its institution: "new", "identity", or a cross-source match
    # explanation (see catalog.matching); kept so the decision can be explained and reversed.
    match_method: str | None = None
    match_detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


_CURRENT = text("superseded_at IS NULL")


class FieldProvenance(SQLModel, table=True):
    """The value one source gives for one field of one institution, and when it was seen there.

    Rows are never deleted by the merge: when the source stops giving the value or gives another one, the
    row is superseded (superseded_at, superseded_run_id) and a new current row is written. Readers that
    want what the sources say now filter on `current()`."""
    __table_args__ = (
        # One current value per source identity and field; superseded rows are history.
        Index("uq_provenance_current", "institution_id", "field", "source", "source_key", unique=True,
              sqlite_where=_CURRENT, postgresql_where=_CURRENT),
        Index("ix_provenance_inst", "institution_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id")
    field: str
    source: str
    source_key: str
    value: str | None = Field(default=None, sa_column=Column(Text))   # JSON-encoded value
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    source_updated_at: date | None = None
    run_id: int | None = None
    superseded_at: datetime | None = None     # when this source stopped giving this value (None: current)
    superseded_run_id: int | None = None      # the run that saw it gone or changed

    @classmethod
    def current(cls):
        """WHERE clause of the rows that are what a source says now (not superseded history)."""
        return cls.superseded_at.is_(None)


class ChangeLog(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    # new | changed | missing | reappeared | status | merged | unmerged
    kind: str = Field(index=True)
    field: str | None = None
    old_value: str | None = Field(default=None, sa_column=Column(Text))
    new_value: str | None = Field(default=None, sa_column=Column(Text))
    source: str | None = None
    run_id: int | None = None
    changed_at: datetime = Field(default_factory=utcnow, index=True)


class RawCapture(SQLModel, table=True):
    """Metadata of fetched bytes; the bytes live content-addressed under captures_dir/<hash[:2]>/<hash>."""
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    url: str
    method: str = "GET"
    request_key: str = Field(index=True)     # sha256 of method+url+body: what was asked
    content_hash: str = Field(index=True)    # sha256 of the response body: what was answered
    status_code: int
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    size: int = 0
    fetched_at: datetime = Field(default_factory=utcnow)
    run_id: int | None = Field(default=None, index=True)


class GeocodeCache(SQLModel, table=True):
    """address query -> result; a re-run never asks a geocoder twice for the same address."""
    key: str = Field(primary_key=True)       # geocoder name + normalised query
    query: str
    found: bool = True
    lat: float | None = None
    lon: float | None = None
    precision: str | None = None
    geocoder: str
    gmina_id6: str | None = None
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ErrorReport(SQLModel, table=True):
    """'Zgłoś błąd': a resident's report about an institution, kept for review (never shown publicly)."""
    id: int | None = Field(default=None, primary_key=True)
    institution_id: int | None = Field(default=None, foreign_key="institution.id", index=True)
    message: str = Field(sa_column=Column(Text, nullable=False))
    contact: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    status: str = "new"                      # new | accepted | rejected
    client_hash: str | None = None        # salted hash of the client address, for abuse review


# Longest query / place text kept in ZeroResultQuery: enough for any real query, bounded against abuse.
ZERO_RESULT_TEXT_MAX = 200


class ZeroResultQuery(SQLModel, table=True):
    """A search that found nothing, aggregated per folded query text, place text and need, for the operator
    (`wsparcie status --zero-results`). Text only: never the client's address or user agent. Empty strings
    (not NULL) stand for "no place" / "no need", so the unique key aggregates them on every backend."""
    __table_args__ = (UniqueConstraint("query_folded", "place_folded", "need", name="uq_zero_result_key"),)
    id: int | None = Field(default=None, primary_key=True)
    query_folded: str = Field(max_length=ZERO_RESULT_TEXT_MAX)    # catalog.text fold of the query
    query_text: str = Field(max_length=ZERO_RESULT_TEXT_MAX)      # as last typed (capped)
    place_folded: str = Field(default="", max_length=ZERO_RESULT_TEXT_MAX)
    place_text: str = Field(default="", max_length=ZERO_RESULT_TEXT_MAX)
    need: str = Field(default="", max_length=64)                  # index.needs key, "" when none
    count: int = 1
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow, index=True)
