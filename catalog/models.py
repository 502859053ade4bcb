"""Catalog tables (HSDS-inspired: an Institution is an organization with its location and service).

Data flow: a source adapter emits SourceItems -> merge writes SourceRecord (one per source identity),
Institution (the merged view), FieldProvenance (who said what, when) and ChangeLog (field history).
Every ScrapeRun is recorded; RawCapture points at the exact bytes a record was parsed from.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC now: sqlmodel's UTCDateTime columns store UTC and return aware datetimes on every backend."""
    return datetime.now(timezone.utc)


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
)


class Institution(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    type: str = Field(index=True, description="catalog.types.InstitutionType value")
    type_raw: Optional[str] = None
    operator_name: Optional[str] = None      # podmiot prowadzący
    operator_krs: Optional[str] = None
    operator_nip: Optional[str] = None
    operator_regon: Optional[str] = None
    rjps_id: Optional[str] = Field(default=None, index=True)
    krs: Optional[str] = Field(default=None, index=True)
    nip: Optional[str] = Field(default=None, index=True)
    regon: Optional[str] = Field(default=None, index=True)
    register_number: Optional[str] = None
    street: Optional[str] = None             # "ul. Rynek"
    building: Optional[str] = None           # "8"
    flat: Optional[str] = None
    postal_code: Optional[str] = Field(default=None, index=True)   # NN-NNN
    locality: Optional[str] = None
    address_raw: Optional[str] = None
    woj_teryt: Optional[str] = Field(default=None, index=True)     # 2 digits
    powiat_teryt: Optional[str] = Field(default=None, index=True)  # 4 digits
    gmina_id6: Optional[str] = Field(default=None, index=True)     # 6 digits (stable across RODZ changes)
    teryt_method: Optional[str] = None       # explicit / postcode / locality / name / pip
    teryt_flag: Optional[str] = None         # set when address and point disagree (needs review)
    lat: Optional[float] = None
    lon: Optional[float] = None
    geo_precision: Optional[str] = None      # catalog.types.Precision value
    geo_source: Optional[str] = None         # which source / geocoder produced the point
    phones: list[dict] = _json()             # [{"raw": "85 7188100", "e164": "+48857188100"}]
    phones_raw: Optional[str] = None
    email: Optional[str] = None
    www: Optional[str] = None
    service_tags: list[str] = _json()
    target_groups: list[str] = _json()
    service_area: list[str] = _json()        # TERYT codes of the units served (OWES, PUP)
    partners: list[dict] = _json()           # consortium partners (OWES): [{"name":..., "role":...}]
    parent_id: Optional[int] = Field(default=None, foreign_key="institution.id")   # branch (filia) -> seat
    status: str = Field(default="active", index=True)
    valid_from: Optional[date] = None
    valid_until: Optional[date] = None
    decision_number: Optional[str] = None
    decision_date: Optional[date] = None
    source_updated_at: Optional[date] = None   # e.g. RJPS "data aktualizacji"
    notes: Optional[str] = Field(default=None, sa_column=Column(Text))
    is_demo: bool = Field(default=False, index=True)
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)   # last change in our catalog


class Source(SQLModel, table=True):
    key: str = Field(primary_key=True)       # "rjps", "owes", "pup", "cis-kis-12", "demo"
    name: str
    url: Optional[str] = None
    licence: Optional[str] = None
    attribution: Optional[str] = None
    last_run_id: Optional[int] = None
    last_success_at: Optional[datetime] = None
    last_data_date: Optional[date] = None    # newest "updated at source" date seen


class ScrapeRun(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: Optional[datetime] = None
    # running | ok | partial (some units failed) | failed (nothing applied) | interrupted
    status: str = Field(default="running", index=True)
    complete: bool = False                   # the listing was complete, so absences count as "missing"
    n_in: int = 0
    n_new: int = 0
    n_changed: int = 0
    n_unchanged: int = 0
    n_missing: int = 0
    n_errors: int = 0
    errors: list[dict] = _json()             # [{"where": "unit 123", "message": "HTTP 500"}]
    message: Optional[str] = None


class SourceRecord(SQLModel, table=True):
    """One record as one source knows it (source identity -> institution)."""
    __table_args__ = (UniqueConstraint("source", "source_key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    source_key: str
    institution_id: int = Field(foreign_key="institution.id", index=True)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    raw: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_hash: Optional[str] = None
    capture_id: Optional[int] = Field(default=None, foreign_key="rawcapture.id")
    source_updated_at: Optional[date] = None
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    last_run_id: Optional[int] = None
    missing_runs: int = 0                    # consecutive complete runs without this record
    # How this record was attached to its institution: "new", "identity", or a cross-source match
    # explanation (see catalog.matching); kept so the decision can be explained and reversed.
    match_method: Optional[str] = None
    match_detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class FieldProvenance(SQLModel, table=True):
    """The value one source gives for one field of one institution, and when it was seen there."""
    __table_args__ = (
        UniqueConstraint("institution_id", "field", "source", "source_key"),
        Index("ix_provenance_inst", "institution_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id")
    field: str
    source: str
    source_key: str
    value: Optional[str] = Field(default=None, sa_column=Column(Text))   # JSON-encoded value
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    source_updated_at: Optional[date] = None
    run_id: Optional[int] = None


class ChangeLog(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    # new | changed | missing | reappeared | status | merged | unmerged
    kind: str = Field(index=True)
    field: Optional[str] = None
    old_value: Optional[str] = Field(default=None, sa_column=Column(Text))
    new_value: Optional[str] = Field(default=None, sa_column=Column(Text))
    source: Optional[str] = None
    run_id: Optional[int] = None
    changed_at: datetime = Field(default_factory=utcnow, index=True)


class RawCapture(SQLModel, table=True):
    """Metadata of fetched bytes; the bytes live content-addressed under captures_dir/<hash[:2]>/<hash>."""
    id: Optional[int] = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    url: str
    method: str = "GET"
    request_key: str = Field(index=True)     # sha256 of method+url+body: what was asked
    content_hash: str = Field(index=True)    # sha256 of the response body: what was answered
    status_code: int
    content_type: Optional[str] = None
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    size: int = 0
    fetched_at: datetime = Field(default_factory=utcnow)
    run_id: Optional[int] = Field(default=None, index=True)


class GeocodeCache(SQLModel, table=True):
    """address query -> result; a re-run never asks a geocoder twice for the same address."""
    key: str = Field(primary_key=True)       # geocoder name + normalised query
    query: str
    found: bool = True
    lat: Optional[float] = None
    lon: Optional[float] = None
    precision: Optional[str] = None
    geocoder: str
    gmina_id6: Optional[str] = None
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ErrorReport(SQLModel, table=True):
    """'Zgłoś błąd': a resident's report about an institution, kept for review (never shown publicly)."""
    id: Optional[int] = Field(default=None, primary_key=True)
    institution_id: Optional[int] = Field(default=None, foreign_key="institution.id", index=True)
    message: str = Field(sa_column=Column(Text, nullable=False))
    contact: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)
    status: str = "new"                      # new | accepted | rejected
    client_hash: Optional[str] = None        # salted hash of the client address, for abuse review
