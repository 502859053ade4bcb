"""Geography quality report for `wsparcie status --geo`: precision counts, institutions without TERYT
codes, and address/point disagreements flagged for review."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from catalog.models import Institution
from catalog.types import PRECISION_LABELS, Precision

SAMPLE = 20
NONE_KEY = "none"


def _counts(session: Session, column) -> dict[str, int]:
    rows = session.exec(select(column, func.count()).group_by(column)).all()
    return {(key if key is not None else NONE_KEY): n for key, n in sorted(rows, key=lambda r: -r[1])}


def _sample(session: Session, condition) -> list[dict[str, Any]]:
    rows = session.exec(select(Institution).where(condition).order_by(Institution.id).limit(SAMPLE)).all()
    return [{"id": r.id, "name": r.name, "type": r.type, "address": r.address_raw, "flag": r.teryt_flag}
            for r in rows]


def report(session: Session) -> dict[str, Any]:
    no_teryt = Institution.powiat_teryt.is_(None)
    flagged = Institution.teryt_flag.is_not(None)
    count = select(func.count()).select_from(Institution)
    return {
        "total": session.exec(count).one(),
        "by_precision": _counts(session, Institution.geo_precision),
        "by_geocoder": _counts(session, Institution.geo_source),
        "by_teryt_method": _counts(session, Institution.teryt_method),
        "without_teryt": session.exec(count.where(no_teryt)).one(),
        "without_teryt_sample": _sample(session, no_teryt),
        "without_gmina": session.exec(count.where(Institution.gmina_id6.is_(None))).one(),
        "flagged": session.exec(count.where(flagged)).one(),
        "flagged_sample": _sample(session, flagged),
    }


def _precision_label(key: str) -> str:
    try:
        return PRECISION_LABELS[Precision(key)]
    except ValueError:
        return "brak punktu" if key == NONE_KEY else key


def format_report(d: dict[str, Any]) -> str:
    lines = [f"Geografia: {d['total']} jednostek", "Dokładność położenia:"]
    lines += [f"  {_precision_label(k):<40} {n:>7}" for k, n in d["by_precision"].items()]
    lines.append("Źródło punktu:")
    lines += [f"  {('brak' if k == NONE_KEY else k):<40} {n:>7}" for k, n in d["by_geocoder"].items()]
    lines.append("Sposób przypisania TERYT:")
    lines += [f"  {('brak' if k == NONE_KEY else k):<40} {n:>7}" for k, n in d["by_teryt_method"].items()]
    lines.append(f"Bez kodów TERYT: {d['without_teryt']} (bez gminy: {d['without_gmina']})")
    lines += [f"  #{r['id']} {r['name']} — {r['address'] or 'brak adresu'}" for r in d["without_teryt_sample"]]
    lines.append(f"Do sprawdzenia (adres i punkt w różnych gminach): {d['flagged']}")
    lines += [f"  #{r['id']} {r['name']}: {r['flag']}" for r in d["flagged_sample"]]
    return "\n".join(lines)
