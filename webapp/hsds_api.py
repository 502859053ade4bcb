"""The Open Referral HSDS 3.0 API under /api/hsds/ and the HSDS bulk export's body.

Pages have the shape of HSDS's own openapi.json (total_items, total_pages, page_number, size, first_page,
last_page, empty, contents). Demo placeholders are never listed: they are not institutions.
Objects come from webapp/hsds.py; this module only reads the catalog and pages through it.
"""
from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import func
from sqlmodel import Session, select

from catalog.models import ChangeLog, Institution, SourceRecord
from index import params
from index.params import ParamError
from webapp import hsds
from webapp.db import session as _session

bp = Blueprint("hsds", __name__, url_prefix="/api/hsds")

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 10_000
CHUNK = 500


# --- reading the catalog ------------------------------------------------------------------------------

def _published(modified_after: datetime | None = None) -> list:
    clauses = [Institution.is_demo.is_(False)]   # a placeholder is no institution: never an HSDS service
    if modified_after is not None:
        clauses.append(Institution.updated_at > modified_after)
    return clauses


def identities(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Institution id -> its source identity ("rjps:3499"): the first source record attached to it, which a
    rebuild from the same sources attaches first again. An institution without one falls back to our id."""
    ids = list(ids)
    out: dict[int, str] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        rows = session.exec(select(SourceRecord.institution_id, SourceRecord.source, SourceRecord.source_key)
                            .where(SourceRecord.institution_id.in_(chunk), SourceRecord.source != "demo")
                            .order_by(SourceRecord.first_seen, SourceRecord.id)).all()
        for inst_id, source, key in rows:
            out.setdefault(inst_id, f"{source}:{key}")
    return {i: out.get(i, f"mapa-wsparcia:{i}") for i in ids}


def _changes(session: Session, ids: list[int]) -> dict[int, list[ChangeLog]]:
    out: dict[int, list[ChangeLog]] = {}
    if ids:
        for row in session.exec(select(ChangeLog).where(ChangeLog.institution_id.in_(ids))).all():
            out.setdefault(row.institution_id, []).append(row)
    return out


def inputs(session: Session, institutions: list[Institution]) -> list[hsds.HsdsInput]:
    """Mapping inputs for a batch of institutions (three queries per batch, not per institution)."""
    ids = [i.id for i in institutions]
    parents = {i.parent_id for i in institutions if i.parent_id}
    known = identities(session, [*ids, *parents])
    changes = _changes(session, ids)
    return [hsds.HsdsInput(inst, known[inst.id], known.get(inst.parent_id) if inst.parent_id else None,
                           changes.get(inst.id, [])) for inst in institutions if not inst.is_demo]


def iter_inputs(session: Session, institutions: Iterable[Institution]) -> Iterator[hsds.HsdsInput]:
    batch: list[Institution] = []
    for inst in institutions:
        batch.append(inst)
        if len(batch) >= CHUNK:
            yield from inputs(session, batch)
            batch = []
    if batch:
        yield from inputs(session, batch)


def export_chunks(session: Session, institutions: Iterable[Institution]) -> Iterator[str]:
    """The bulk export's JSON text: HSDS compiled organizations (each with its services and locations)."""
    yield json.dumps({"version": hsds.HSDS_VERSION, "profile": hsds.PROFILE_URL})[:-1] + ', "organizations": [\n'
    first = True
    for item in iter_inputs(session, institutions):
        yield ("" if first else ",\n") + json.dumps(hsds.organization(item), ensure_ascii=False)
        first = False
    yield "\n]}\n"


def _find(kind: Callable[[str], str], wanted: uuid.UUID) -> hsds.HsdsInput | None:
    """The published institution whose uuid5 of this kind is `wanted` (the ids are derived, not stored)."""
    session = _session()
    ids = session.exec(select(Institution.id).where(*_published())).all()
    for inst_id, identity in identities(session, ids).items():
        if kind(identity) == str(wanted):
            return inputs(session, [session.get(Institution, inst_id)])[0]
    return None


# --- paging -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int


def _int(name: str, default: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    raw = params.clean(raw)
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise ParamError(f"invalid_{name}", f"Parametr {name} musi być liczbą całkowitą w zakresie 1–{high}.",
                         f"Parameter {name} must be an integer between 1 and {high}.")
    return int(raw)


def _paging() -> Paging:
    return Paging(_int("page", 1, MAX_PAGE), _int("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE))


def _modified_after() -> datetime | None:
    if request.args.get("modified_after") is not None and not params.clean(request.args["modified_after"]):
        raise ParamError("invalid_modified_after", "Parametr modified_after nie może być pusty.",
                         "Parameter modified_after must not be empty.")
    return params.modified_after(params.as_params(request.args))


def page_of(contents: list[Any], total: int, paging: Paging) -> dict[str, Any]:
    pages = max(1, math.ceil(total / paging.per_page))
    return {"total_items": total, "total_pages": pages, "page_number": paging.page, "size": len(contents),
            "first_page": paging.page == 1, "last_page": paging.page >= pages, "empty": not contents,
            "contents": contents}


def _institution_page(render: Callable[[hsds.HsdsInput], dict[str, Any]]):
    paging, after = _paging(), _modified_after()
    session = _session()
    clauses = _published(after)
    total = session.exec(select(func.count()).select_from(Institution).where(*clauses)).one()
    rows = session.exec(select(Institution).where(*clauses).order_by(Institution.id)
                        .offset((paging.page - 1) * paging.per_page).limit(paging.per_page)).all()
    return jsonify(page_of([render(item) for item in inputs(session, list(rows))], total, paging))


def _one(kind: Callable[[str], str], wanted: uuid.UUID, render: Callable[[hsds.HsdsInput], dict[str, Any]]):
    item = _find(kind, wanted)
    if item is None:
        raise ParamError("not_found", "Nie znaleziono.", "Not found.", 404)
    return jsonify(render(item))


def _static_page(items: list[dict[str, Any]]):
    paging = _paging()
    start = (paging.page - 1) * paging.per_page
    return jsonify(page_of(items[start:start + paging.per_page], len(items), paging))


# --- endpoints ----------------------------------------------------------------------------------------

@bp.get("/")
def root():
    return jsonify(hsds.root(url_for("api.openapi_document", _external=True)))


@bp.get("/services")
def services():
    return _institution_page(hsds.service_list_item)


@bp.get("/services/<uuid:service_id>")
def service(service_id: uuid.UUID):
    return _one(hsds.service_id, service_id, hsds.service)


@bp.get("/organizations")
def organizations():
    return _institution_page(hsds.organization_list_item)


@bp.get("/organizations/<uuid:organization_id>")
def organization(organization_id: uuid.UUID):
    return _one(hsds.organization_id, organization_id, hsds.organization)


@bp.get("/service_at_locations")
def service_at_locations():
    return _institution_page(hsds.service_at_location_list_item)


@bp.get("/service_at_locations/<uuid:service_at_location_id>")
def service_at_location(service_at_location_id: uuid.UUID):
    return _one(hsds.service_at_location_id, service_at_location_id, hsds.service_at_location)


@bp.get("/taxonomies")
def taxonomies():
    return _static_page([hsds.taxonomy_to_dict(t) for t in hsds.TAXONOMIES])


@bp.get("/taxonomy_terms")
def taxonomy_terms():
    return _static_page(hsds.all_taxonomy_terms())


def init_app(app) -> None:
    """Register the HSDS blueprint (GET only: nothing for CSRF to protect)."""
    from webapp.security import csrf

    app.register_blueprint(bp)
    csrf.exempt(bp)


def export_stream(query, args: dict[str, list[str]]) -> Iterator[str]:
    """/api/export/hsds.json: every institution the export filters select, from a session that lives as
    long as the streamed response."""
    from flask import current_app, stream_with_context

    from catalog.db import session_scope
    from index import fallback

    url = current_app.config["SETTINGS"].database_url
    after = params.modified_after(args)

    def generate() -> Iterator[str]:
        with session_scope(url) as session:
            yield from export_chunks(session, fallback.iter_institutions(session, query, modified_after=after))
    return stream_with_context(generate())


# --- OpenAPI ------------------------------------------------------------------------------------------

def _page_schema(item: str) -> dict[str, Any]:
    counts = {k: {"type": "integer", "minimum": 0} for k in ("total_items", "size")}
    return {"type": "object", "required": ["total_items", "total_pages", "page_number", "size", "first_page",
                                           "last_page", "empty", "contents"],
            "properties": {**counts, "total_pages": {"type": "integer", "minimum": 1},
                           "page_number": {"type": "integer", "minimum": 1},
                           **{k: {"type": "boolean"} for k in ("first_page", "last_page", "empty")},
                           "contents": {"type": "array", "items": {"type": "object", "required": ["id"],
                                                                   "description": item}}}}


def openapi_paths(error_ref: dict[str, Any]) -> dict[str, Any]:
    """The HSDS endpoints for webapp/openapi.py. Objects are the official HSDS 3.0 compiled schemas
    (tests/hsds validates every answer against them); here they are named, not inlined (3 MB)."""
    def query(name: str, description: str, schema: dict) -> dict:
        return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}
    paging = [query("page", "Numer strony (od 1).", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
              query("per_page", "Wyników na stronie.", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE})]
    after = query("modified_after", "Tylko zmienione w katalogu po tej chwili (ISO 8601, UTC).",
                  {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]})
    error = {"content": {"application/json": {"schema": error_ref}}}
    bad = {"400": {"description": "Nieprawidłowy parametr.", **error}}
    missing = {"404": {"description": "Nie znaleziono.", **error}}

    def ok(schema: dict) -> dict:
        return {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}

    def listing(summary: str, item: str, with_after: bool = True) -> dict:
        return {"get": {"summary": summary, "parameters": paging + ([after] if with_after else []),
                        "responses": {**ok(_page_schema(item)), **bad}}}

    def single(summary: str, name: str, schema_url: str) -> dict:
        return {"get": {"summary": summary, "parameters": [{"name": name, "in": "path", "required": True,
                                                            "schema": {"type": "string", "format": "uuid"}}],
                        "responses": {**ok({"type": "object", "required": ["id"], "description": schema_url}),
                                      **missing}}}
    base = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
    return {
        "/api/hsds/": {"get": {"summary": "HSDS 3.0: wersja i profil", "responses": ok({
            "type": "object", "required": ["version", "profile", "openapi_url"],
            "properties": {k: {"type": "string"} for k in ("version", "profile", "openapi_url")}})}},
        "/api/hsds/services": listing("HSDS: usługi (strona)", base + "compiled/service_list.json"),
        "/api/hsds/services/{service_id}": single("HSDS: usługa", "service_id", base + "compiled/service.json"),
        "/api/hsds/organizations": listing("HSDS: organizacje (strona)", base + "compiled/organization_list.json"),
        "/api/hsds/organizations/{organization_id}": single("HSDS: organizacja", "organization_id",
                                                            base + "compiled/organization.json"),
        "/api/hsds/service_at_locations": listing("HSDS: usługi w miejscach (strona)",
                                                  base + "compiled/service_at_location_list.json"),
        "/api/hsds/service_at_locations/{service_at_location_id}": single(
            "HSDS: usługa w miejscu", "service_at_location_id", base + "compiled/service_at_location.json"),
        "/api/hsds/taxonomies": listing("HSDS: taksonomie", base + "taxonomy.json", with_after=False),
        "/api/hsds/taxonomy_terms": listing("HSDS: pojęcia taksonomii", base + "taxonomy_term.json",
                                            with_after=False),
    }
