"""Resident-facing pages: home search, the filterable list, an institution's page and 'Zgłoś błąd'."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from catalog.models import Institution
from catalog.radii import widen
from catalog.types import Status, info
from geo import teryt
from index import params
from index.api import QueryError, SearchQuery
from webapp import helplines, lookup, present
from webapp import page_queries as pq
from webapp.db import session, settings
from webapp.forms import ReportForm
from webapp.i18n import query_message
from webapp.routing import ID_CONVERTER
from webapp.security import client_hash, honeypot_filled, limiter, report_rate_limit

bp = Blueprint("public", __name__)
# templates/macros.html place_choices: long lists of place choices grouped by województwo
bp.add_app_template_global(lookup.choice_groups, "choice_groups")
bp.add_app_template_global(lookup.GROUP_CHOICES_OVER, "group_choices_over")  # type: ignore[arg-type]

PER_PAGE = 20
MAX_PAGE = 500
NEARBY_KM = 30.0
STATUS_CODES = {s.value for s in Status}


@dataclass
class Listing:
    """What a page lists: institutions with their distance, the total, the search's note."""
    items: list[tuple[Institution, float | None]] = field(default_factory=list)
    total: int = 0
    note: str | None = None
    facets: dict = field(default_factory=dict)


def page_query() -> SearchQuery:
    """The page's filters (Polish parameter names) as the one SearchQuery (index.params)."""
    return params.parse_page(params.as_params(request.args), per_page=PER_PAGE, max_page=MAX_PAGE)


def search_listing(query: SearchQuery) -> Listing:
    """Run the query through the one search path; raises QueryError (Polish message) when refused."""
    s = session()
    result = lookup.search(s, settings(), query)
    return Listing(lookup.listing(s, result), result.total, result.note, dict(result.facets or {}))


def _point() -> tuple[float, float] | None:
    """Browser geolocation arrives as lat/lon GET fields (filled by static/js/geolocate.js)."""
    try:
        lat, lon = float(request.args["lat"]), float(request.args["lon"])
    except (KeyError, ValueError):
        return None
    return (lat, lon) if 48.5 <= lat <= 55.2 and 13.8 <= lon <= 24.5 else None


def home():
    args = params.as_params(request.args)
    q = params.clean(request.args.get("q", ""))[:params.MAX_TEXT]
    gdzie = params.clean(request.args.get("gdzie", ""))[:params.MAX_TEXT]
    need = params.page_need(args)
    point = _point()
    ctx = {"q": q, "gdzie": gdzie, "need": need, "searched": bool(q or gdzie or need or point),
           "resolution": None, "listing": None, "message": None, "zero": None,
           "crisis": helplines.box(helplines.crisis_page(q, need))}
    if not ctx["searched"]:
        return render_template("home.html", **ctx)
    near = point
    if gdzie or point:
        resolution = lookup.resolve(session(), settings(), text=None if point else gdzie, point=point)
        ctx["resolution"] = resolution
        if resolution is not None and resolution.place is not None and resolution.place.lat is not None:
            near = (resolution.place.lat, resolution.place.lon)
        elif not point and resolution is None:       # an ambiguous name shows its choices instead
            ctx["message"] = _("Nie znaleźliśmy miejsca „%(place)s”. Wpisz nazwę miejscowości, kod pocztowy "
                               "(np. 15-950) albo adres.", place=gdzie)
    # Only the text and the need count on the home page: its form has no other filters.
    query = params.parse_page({"q": [q], "potrzeba": [need or ""]}, per_page=PER_PAGE)
    if q or need or near:
        try:
            ctx["listing"], ctx["radius_km"] = _nearby_first(query, near)
            ctx["zero"] = _zero_results(ctx["listing"], q, gdzie, need)
        except QueryError as exc:
            ctx["message"] = query_message(exc)
    return render_template("home.html", **ctx)


def _zero_results(listing: Listing, q: str, place: str, need: str | None) -> dict | None:
    """A search that found nothing does not end the road: it is counted for the operator (text only) and
    the page offers the nearest need words; the competent offices of the place are shown by the caller."""
    if listing.total or not (q or need):
        return None
    lookup.log_zero_result(settings(), q, place, need)
    return lookup.need_suggestions(q, need)


def _nearby_first(query: SearchQuery, near: tuple[float, float] | None) -> tuple[Listing, float | None]:
    """Help is local: the nearest matches within the first radius of the widening policy that has any."""
    if near is None:
        return search_listing(query), None
    return widen(lambda radius: search_listing(replace(query, near=near, radius_km=radius, sort="distance")),
                 lambda listing: bool(listing.total))


def institution_list():
    query = page_query()
    need = params.page_need(params.as_params(request.args))
    message, listing, zero = None, Listing(), None
    try:
        listing = search_listing(query)
        if query.page == 1:
            zero = _zero_results(listing, query.text or "", _area_text(query), need)
    except QueryError as exc:
        message = query_message(exc)
    pages = max(1, math.ceil(listing.total / PER_PAGE))
    woj = query.woj or (query.powiat[:2] if query.powiat else None)
    return render_template(
        "list.html", f=query, need=need, listing=listing, zero=zero,
        crisis=helplines.box(helplines.crisis_page(query.text, need, query.types)),
        page=query.page, pages=min(pages, MAX_PAGE), message=message,
        wojewodztwa=teryt.wojewodztwa(), powiaty=teryt.powiaty(woj) if woj else [],
        gminy=teryt.gminy(query.powiat) if query.powiat else [], woj=woj,
        page_args={k: v for k, v in request.args.items(multi=True) if k != "strona"},
    )


def _area_text(query: SearchQuery) -> str:
    """The list's area filter as words, for the zero-result log ("gmina Zabłudów")."""
    names = teryt.names_for(query.gmina[:6] if query.gmina else None, query.powiat, query.woj)
    if query.gmina and names["gmina"]:
        return f"gmina {names['gmina']}"
    if query.powiat and names["powiat_label"]:
        return names["powiat_label"]
    return f"woj. {names['wojewodztwo']}" if query.woj and names["wojewodztwo"] else ""


def _nearby(inst: Institution) -> list[tuple[Institution, float | None]]:
    """Other institutions within NEARBY_KM, nearest first, through the one search path."""
    query = SearchQuery(near=(inst.lat, inst.lon), radius_km=NEARBY_KM, sort="distance", per_page=7)
    try:
        listing = search_listing(query)
    except QueryError:
        return []
    return [(other, d) for other, d in listing.items if other.id != inst.id][:6]


def _detail_context(inst: Institution) -> dict:
    s = session()
    # A placeholder's point is a gmina centre: "near it" means nothing, and its page lists nothing.
    located = inst.lat is not None and not inst.is_demo
    nearby = _nearby(inst) if located else []
    needs_referral = info(inst.type).needs_referral
    parent = s.get(Institution, inst.parent_id) if inst.parent_id else None
    provenance = pq.provenance(s, inst.id)
    names = pq.source_names(s)
    return {
        "inst": inst, "provenance": provenance, "nearby": nearby, "parent": parent,
        "referral": pq.referral_units(s, inst) if needs_referral else [],
        "source_names": names, "places_source": present.places_source(provenance, names),
        "crisis": helplines.box(helplines.is_crisis_type(inst.type)),
    }


def _institution_or_404(inst_id: int) -> Institution:
    inst = session().get(Institution, inst_id)
    if inst is None:
        abort(404)
    return inst


def institution(inst_id: int):
    inst = _institution_or_404(inst_id)
    return render_template("detail.html", form=ReportForm(), **_detail_context(inst))


@limiter.limit(report_rate_limit, methods=["POST"])
def report(inst_id: int):
    inst = _institution_or_404(inst_id)
    form = ReportForm()
    if not form.validate_on_submit():
        return render_template("detail.html", form=form, **_detail_context(inst)), 400
    if not honeypot_filled():   # a bot gets the same thanks page, and nothing is stored
        s = session()
        pq.store_report(s, inst.id, form.message.data, form.contact.data, client_hash())
        s.commit()
    return redirect(url_for("public.report_thanks", inst_id=inst.id), code=303)


def report_thanks(inst_id: int):
    return render_template("thanks.html", inst=_institution_or_404(inst_id))


bp.add_url_rule("/", "home", home)
bp.add_url_rule("/instytucje", "institutions", institution_list)
bp.add_url_rule(f"/instytucja/<{ID_CONVERTER}:inst_id>", "institution", institution)
bp.add_url_rule(f"/instytucja/<{ID_CONVERTER}:inst_id>/zglos", "report", report, methods=["POST"])
bp.add_url_rule(f"/instytucja/<{ID_CONVERTER}:inst_id>/zglos/dziekujemy", "report_thanks", report_thanks)
