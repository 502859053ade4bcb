"""The adviser's partner sheet for one powiat: grouped by type, the OWES, changes since a date, CSV."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import force_locale

from catalog.address import street_line
from catalog.models import PLACES_FIELDS, Institution
from catalog.spreadsheet import XLSX_MIMETYPE, safe_row, xlsx_bytes
from catalog.types import info
from geo import teryt
from webapp import page_queries as pq
from webapp import present
from webapp.db import session
from webapp.i18n import DEFAULT_LOCALE

bp = Blueprint("powiat", __name__)

DEFAULT_CHANGES_DAYS = 90

CSV_HEADER = ("Rodzaj", "Nazwa", "Ulica i numer", "Kod pocztowy", "Miejscowość", "Gmina", "Telefony", "E-mail",
              "Strona www", "Podmiot prowadzący", "Status", "Ważny do", "Położenie (dokładność)", "Id w katalogu",
              "Miejsca", "Wolne miejsca", "Miejsca — stan na", "Miejsca — źródło", "Rekord demonstracyjny")


def _powiat_or_404(code: str) -> teryt.Powiat:
    powiat = teryt.powiat(code)
    if powiat is None:
        abort(404)
    return powiat


def _since() -> date:
    try:
        return date.fromisoformat(request.args.get("od", ""))
    except ValueError:
        return date.today() - timedelta(days=DEFAULT_CHANGES_DAYS)


def powiat_page(code: str):
    powiat = _powiat_or_404(code)
    since = _since()
    s = session()
    sheet = pq.powiat_sheet(s, code)
    changes = pq.changes_since(s, code, datetime.combine(since, time.min, tzinfo=UTC))
    return render_template(
        "powiat.html", powiat=powiat, woj=teryt.wojewodztwo(powiat.woj_code), sheet=sheet, since=since,
        changes=changes, places_sources=_places_sources(s, sheet),
    )


def _places_sources(s, sheet: pq.PowiatSheet) -> dict[int, str]:
    """Institution id -> readable name of the source of its places, for the rows that have places."""
    ids = [i.id for _type, items in sheet.groups for i in items if i.places_total is not None
           or i.places_free is not None]
    names = pq.source_names(s)
    found = {i: present.places_source(rows, names) for i, rows in pq.current_provenance(s, ids, PLACES_FIELDS).items()}
    return {i: name for i, name in found.items() if name}


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _csv_row(inst: Institution, places_sources: dict[int, str]) -> list[str]:
    # Exports are data for Polish offices: Polish under /uk/ and /en/ too, like the API.
    with force_locale(DEFAULT_LOCALE):
        return _polish_csv_row(inst, places_sources)


def _polish_csv_row(inst: Institution, places_sources: dict[int, str]) -> list[str]:
    names = teryt.names_for(inst.gmina_id6)
    # A placeholder's status is no source's word: it is not written as "działa".
    status = "brak danych" if inst.is_demo else present.status_label(inst.status)
    return [
        info(inst.type).label, inst.name, street_line(inst), inst.postal_code or "", inst.locality or "",
        names["gmina"] or "", "; ".join(p["raw"] for p in present.phones(inst)), inst.email or "",
        present.web_url(inst.www) or "", inst.operator_name or "", status,
        present.local_dt(inst.valid_until) if inst.valid_until else "", present.precision_label(inst.geo_precision),
        str(inst.id), _number(inst.places_total), _number(inst.places_free),
        present.local_dt(inst.places_as_of) if inst.places_as_of else "", places_sources.get(inst.id, ""),
        "tak" if inst.is_demo else "nie",
    ]


def powiat_csv(code: str):
    powiat = _powiat_or_404(code)
    s = session()
    sheet = pq.powiat_sheet(s, code)
    sources = _places_sources(s, sheet)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_HEADER)
    # Scraped text must stay text in the adviser's spreadsheet (catalog/spreadsheet.py).
    for _type, items in sheet.groups:
        writer.writerows(safe_row(_csv_row(i, sources)) for i in items)
    writer.writerows(safe_row(_csv_row(i, sources)) for i in sheet.owes + sheet.serving_pups)
    filename = f"partnerzy-powiat-{powiat.code}.csv"
    # A BOM lets spreadsheet programs detect UTF-8 (Polish letters) when the file is opened directly.
    return Response("\ufeff" + buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def powiat_xlsx(code: str):
    """The partner sheet as a workbook: columns in any Excel locale (Polish Excel reads CSV with ';')."""
    powiat = _powiat_or_404(code)
    s = session()
    sheet = pq.powiat_sheet(s, code)
    sources = _places_sources(s, sheet)
    rows = [_csv_row(i, sources) for _type, items in sheet.groups for i in items]
    rows += [_csv_row(i, sources) for i in sheet.owes + sheet.serving_pups]
    body = xlsx_bytes(list(CSV_HEADER), rows, powiat.label)
    filename = f"partnerzy-powiat-{powiat.code}.xlsx"
    return Response(body, mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def powiaty_page():
    groups = [(w, teryt.powiaty(w.code)) for w in teryt.wojewodztwa()]
    return render_template("powiaty.html", groups=groups)


bp.add_url_rule("/powiaty", "powiaty", powiaty_page)
bp.add_url_rule("/powiat/<string(length=4):code>", "powiat", powiat_page)
bp.add_url_rule("/powiat/<string(length=4):code>.csv", "powiat_csv", powiat_csv)
bp.add_url_rule("/powiat/<string(length=4):code>.xlsx", "powiat_xlsx", powiat_xlsx)
