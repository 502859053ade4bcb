"""Resident-facing pages: home search, the filterable list, an institution's page and 'Zgłoś błąd'."""
from __future__ import annotations

import math
import re

from flask import Blueprint, abort, redirect, render_template, request, url_for

from catalog.models import Institution
from catalog.types import NEEDS, TARGET_GROUPS, TYPES, InstitutionType, Status
from geo import teryt
from webapp import lookup, present
from webapp import page_queries as pq
from webapp.api_params import ID_CONVERTER, clean
from webapp.forms import ReportForm
from webapp.security import client_hash, honeypot_filled, limiter, report_rate_limit
from webapp.views import session, settings

PER_PAGE = 20
MAX_PAGE = 500
TYPE_CODES = {t.value for t in TYPES}
STATUS_CODES = {s.value for s in Status}


def _code(name: str, digits: int) -> str | None:
    value = request.args.get(name, "").strip()
    return value if re.fullmatch(rf"\d{{{digits}}}", value) else None


def _page() -> int:
    try:
        return min(max(int(request.args.get("strona", "1")), 1), MAX_PAGE)
    except ValueError:
        return 1


def types_for_need(need: str | None) -> tuple[str, ...]:
    if need not in NEEDS:
        return ()
    return tuple(code.value for code, ti in TYPES.items() if need in ti.needs)


def _point() -> tuple[float, float] | None:
    """Browser geolocation arrives as lat/lon GET fields (filled by static/js/geolocate.js)."""
    try:
        lat, lon = float(request.args["lat"]), float(request.args["lon"])
    except (KeyError, ValueError):
        return None
    return (lat, lon) if 48.5 <= lat <= 55.2 and 13.8 <= lon <= 24.5 else None


def list_filters() -> tuple[pq.Filters, str | None]:
    need = request.args.get("potrzeba") if request.args.get("potrzeba") in NEEDS else None
    types = tuple(t for t in request.args.getlist("typ") if t in TYPE_CODES) or types_for_need(need)
    status = request.args.get("status")
    group = request.args.get("grupa")
    f = pq.Filters(
        q=clean(request.args.get("q", ""))[:200], woj=_code("woj", 2), powiat=_code("powiat", 4),
        gmina=_code("gmina", 6), types=types, status=status if status in STATUS_CODES else None,
        target_group=group if group in TARGET_GROUPS else None, free_places=request.args.get("wolne") == "1",
    )
    return f, need


def home():
    q = clean(request.args.get("q", ""))[:200]
    gdzie = clean(request.args.get("gdzie", ""))[:200]
    need = request.args.get("potrzeba") if request.args.get("potrzeba") in NEEDS else None
    point = _point()
    ctx = {"q": q, "gdzie": gdzie, "need": need, "searched": bool(q or gdzie or need or point),
           "resolution": None, "listing": None, "message": None}
    if not ctx["searched"]:
        return render_template("home.html", **ctx)
    near = point
    if gdzie or point:
        resolution = lookup.resolve(session(), settings(), text=None if point else gdzie, point=point)
        ctx["resolution"] = resolution
        if resolution is not None and resolution.place is not None and resolution.place.lat is not None:
            near = (resolution.place.lat, resolution.place.lon)
        elif not point and resolution is None:       # an ambiguous name shows its choices instead
            ctx["message"] = (f"Nie znaleźliśmy miejsca „{gdzie}”. Wpisz nazwę miejscowości, kod pocztowy "
                              "(np. 15-950) albo adres.")
    f = pq.Filters(q=q, types=types_for_need(need))
    if q or need or near:
        try:
            ctx["listing"], ctx["radius_km"] = _nearby_first(f, near)
        except lookup.QueryRefused as exc:
            ctx["message"] = str(exc)
    return render_template("home.html", **ctx)


# Help is local: look close first and widen only when nothing matches (a 400 km "nearest" CIS helps no one
# when the one in the next gmina is simply spelled differently).
SEARCH_RADII_KM: tuple[float | None, ...] = (25.0, 75.0, 200.0, None)


def _nearby_first(f: pq.Filters, near: tuple[float, float] | None) -> tuple[lookup.Listing, float | None]:
    if near is None:
        return lookup.search(session(), settings(), f, page=1, per_page=PER_PAGE), None
    listing = lookup.Listing()
    for radius in SEARCH_RADII_KM:
        listing = lookup.search(session(), settings(), f, page=1, per_page=PER_PAGE, near=near,
                                radius_km=radius, nearest_first=True)
        if listing.total:
            return listing, radius
    return listing, None


def institution_list():
    f, need = list_filters()
    page = _page()
    message, listing = None, lookup.Listing()
    try:
        listing = lookup.search(session(), settings(), f, page=page, per_page=PER_PAGE)
    except lookup.QueryRefused as exc:
        message = str(exc)
    pages = max(1, math.ceil(listing.total / PER_PAGE))
    woj = f.woj or (f.powiat[:2] if f.powiat else None)
    return render_template(
        "list.html", f=f, need=need, listing=listing, page=page, pages=min(pages, MAX_PAGE), message=message,
        wojewodztwa=teryt.wojewodztwa(), powiaty=teryt.powiaty(woj) if woj else [],
        gminy=teryt.gminy(f.powiat) if f.powiat else [], woj=woj,
        page_args={k: v for k, v in request.args.items(multi=True) if k != "strona"},
    )


def _detail_context(inst: Institution) -> dict:
    s = session()
    # A placeholder's point is a gmina centre: "near it" means nothing, and its page lists nothing.
    located = inst.lat is not None and not inst.is_demo
    nearby = pq.nearest(s, inst.lat, inst.lon, limit=6, exclude=inst.id, max_km=30) if located else []
    needs_referral = inst.type in {t.value for t in (InstitutionType.CIS, InstitutionType.KIS,
                                                     InstitutionType.WTZ, InstitutionType.ZAZ,
                                                     InstitutionType.DPS, InstitutionType.SDS)}
    parent = s.get(Institution, inst.parent_id) if inst.parent_id else None
    provenance = pq.provenance(s, inst.id)
    names = pq.source_names(s)
    return {
        "inst": inst, "provenance": provenance, "nearby": nearby, "parent": parent,
        "referral": pq.referral_units(s, inst) if needs_referral else [],
        "source_names": names, "places_source": present.places_source(provenance, names),
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
    return redirect(url_for("site.report_thanks", inst_id=inst.id), code=303)


def report_thanks(inst_id: int):
    return render_template("thanks.html", inst=_institution_or_404(inst_id))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/", "home", home)
    bp.add_url_rule("/instytucje", "institutions", institution_list)
    bp.add_url_rule(f"/instytucja/<{ID_CONVERTER}:inst_id>", "institution", institution)
    bp.add_url_rule(f"/instytucja/<{ID_CONVERTER}:inst_id>/zglos", "report", report, methods=["POST"])
    bp.add_url_rule(f"/instytucja/<{ID_CONVERTER}:inst_id>/zglos/dziekujemy", "report_thanks", report_thanks)
