"""Coverage report: how much of Poland the catalog covers, against the national figures (GUIDE §2,
data/registries/samples/stats/counts_from_public_sources.csv), and which gminy have no OPS/CUS and which
powiaty no PCPR or PUP. `wsparcie status --coverage` prints `format_report(report(session))`."""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from catalog.models import Institution
from catalog.settings import REFERENCE_DATA_DIR
from catalog.types import TYPES, InstitutionType, Status
from geo import teryt

COUNTS_FILE = REFERENCE_DATA_DIR / "registries" / "samples" / "stats" / "counts_from_public_sources.csv"
# The six RJPS map answers of June 2022 (data/registries/real/rjps-2022/SOURCE.md): the RJPS unit ids of
# that time with their points, no names. They are the universe the RJPS coverage is measured against.
RJPS_2022_DIR = REFERENCE_DATA_DIR / "registries" / "real" / "rjps-2022"
T = InstitutionType
_CLOSED = (Status.CLOSED.value, Status.POSSIBLY_CLOSED.value)


@dataclass(frozen=True)
class Expected:
    key: str                      # row key in the report ("ops+cus", "cis", ...)
    types: tuple[str, ...]
    label: str
    low: int | None               # None: unknown (count it)
    high: int | None
    note: str                     # how GUIDE §2 states it


def expectations() -> list[Expected]:
    gminy, land_powiaty = len(teryt.gminy()), sum(1 for p in teryt.powiaty() if not p.city_with_powiat_rights)
    return [
        Expected("ops+cus", (T.OPS.value, T.CUS.value), "OPS + CUS", gminy, gminy, f"jeden na gminę ({gminy})"),
        Expected("pcpr", (T.PCPR.value,), "PCPR", land_powiaty - 10, land_powiaty + 5, f"≈ {land_powiaty}"),
        Expected("pup", (T.PUP.value,), "PUP", 338, 340, "338–340"),
        Expected("cis", (T.CIS.value,), "CIS", 180, 230, "≈ 200"),
        Expected("kis", (T.KIS.value,), "KIS", 160, 260, "200–260"),
        Expected("zaz", (T.ZAZ.value,), "ZAZ", 130, 140, "130–140"),
        Expected("wtz", (T.WTZ.value,), "WTZ", 700, 760, "≈ 730"),
        Expected("owes", (T.OWES.value,), "OWES", 40, 70, "40–70"),
        Expected("ps", (T.PS.value,), "PS (status ustawowy)", None, None, "nieznana — policz"),
    ]


@lru_cache(maxsize=1)
def public_counts() -> dict[str, dict[str, str]]:
    """The most recent published count per type from the stats CSV (with its date and source URL)."""
    latest: dict[str, dict[str, str]] = {}
    with COUNTS_FILE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            key = row["institution_type"].strip().lower()
            if key not in latest or row["reference_date"] > latest[key]["reference_date"]:
                latest[key] = row
    return latest


@lru_cache(maxsize=1)
def rjps_universe() -> dict[str, tuple[float, float]]:
    """RJPS unit id -> (lat, lon) from the 2022 map answers (union of the six filters; "x" is the
    longitude). Empty when the files are not bundled."""
    units: dict[str, tuple[float, float]] = {}
    for path in sorted(RJPS_2022_DIR.glob("*.json")):
        for unit in json.loads(path.read_text(encoding="utf-8")):
            if unit.get("id") is not None and unit.get("x") is not None and unit.get("y") is not None:
                units.setdefault(str(unit["id"]), (float(unit["y"]), float(unit["x"])))
    return units


def rjps_point(rjps_id: str | None) -> tuple[float, float] | None:
    return rjps_universe().get(str(rjps_id)) if rjps_id else None


def rjps_coverage(session: Session) -> dict[str, int]:
    """How many RJPS units of the 2022 universe the catalog knows by name (a record carrying that id)."""
    universe = rjps_universe()
    ids = {str(i) for i in session.exec(select(Institution.rjps_id).where(
        Institution.rjps_id.is_not(None), Institution.is_demo == False)).all()}
    return {"listed": len(universe), "named": len(ids & set(universe)), "outside_universe": len(ids - set(universe))}


def _counts(session: Session) -> list[tuple[str, str | None, str, int]]:
    # Demo placeholders stand for missing data: they never count as coverage.
    query = select(Institution.type, Institution.woj_teryt, Institution.status, func.count()).where(
        Institution.is_demo == False).group_by(
        Institution.type, Institution.woj_teryt, Institution.status)
    return [tuple(row) for row in session.exec(query).all()]


def report(session: Session) -> dict[str, Any]:
    rows = _counts(session)
    active_by_type: dict[str, int] = defaultdict(int)
    all_by_type: dict[str, int] = defaultdict(int)
    by_woj: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for type_code, woj, status, n in rows:
        all_by_type[type_code] += n
        if status not in _CLOSED:
            active_by_type[type_code] += n
            by_woj[woj or "??"][type_code] += n
    published = public_counts()
    types = []
    for exp in expectations():
        active = sum(active_by_type[t] for t in exp.types)
        evidence = next((published[t] for t in exp.types if t in published), None)
        types.append({
            "key": exp.key, "label": exp.label, "active": active, "all": sum(all_by_type[t] for t in exp.types),
            "expected": exp.note, "expected_low": exp.low, "expected_high": exp.high,
            "within": None if exp.low is None else exp.low <= active <= (exp.high or active),
            "published": {k: evidence[k] for k in ("count", "reference_date", "source_url")} if evidence else None,
        })
    return {
        "types": types,
        "wojewodztwa": _by_woj(by_woj),
        "gminy_without_ops": _gminy_without_ops(session),
        "powiaty_without_pcpr": _powiaty_without(session, (T.PCPR.value,), city_also=(T.OPS.value, T.CUS.value)),
        "powiaty_without_pup": _powiaty_without(session, (T.PUP.value,)),
        "unlocated": sum(by_woj.get("??", {}).values()),
        "rjps": rjps_coverage(session),
        "demo_placeholders": session.exec(
            select(func.count()).select_from(Institution).where(Institution.is_demo == True)).one(),
    }


def _by_woj(by_woj: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    out = []
    for woj in teryt.wojewodztwa():
        counts = by_woj.get(woj.code, {})
        ops = counts.get(T.OPS.value, 0) + counts.get(T.CUS.value, 0)
        out.append({"code": woj.code, "name": woj.name, "counts": dict(sorted(counts.items())),
                    "ops+cus": ops, "gminy": len([g for g in teryt.gminy() if g.woj_code == woj.code])})
    return out


def _active(query):
    return query.where(Institution.status.not_in(_CLOSED), Institution.is_demo == False)


def _gminy_without_ops(session: Session) -> list[dict[str, str]]:
    covered = {
        (g or "")[:6] for g in session.exec(_active(select(Institution.gmina_id6).where(
            Institution.type.in_([T.OPS.value, T.CUS.value])))).all()
    }
    return [
        {"id6": g.id6, "name": g.name, "kind": g.kind, "powiat": g.powiat_code, "woj": g.woj_code}
        for g in teryt.gminy() if g.id6 not in covered
    ]


def _powiaty_without(session: Session, types: tuple[str, ...], city_also: tuple[str, ...] = ()) -> list[dict]:
    """Powiaty with no unit of `types` seated in or serving them. In a city with powiat rights the city's
    MOPS/MOPR does the PCPR's work, so `city_also` types seated there count too."""
    covered: set[str] = set()
    for powiat_code, area in session.exec(_active(select(Institution.powiat_teryt, Institution.service_area)
                                                  .where(Institution.type.in_(types)))).all():
        covered.update([powiat_code] if powiat_code else [])
        covered.update(code for code in (area or []) if len(code) == 4)
    if city_also:
        covered.update(
            code for code in session.exec(_active(select(Institution.powiat_teryt).where(
                Institution.type.in_(city_also)))).all()
            if code and (p := teryt.powiat(code)) is not None and p.city_with_powiat_rights
        )
    return [{"code": p.code, "label": p.label, "woj": p.woj_code} for p in teryt.powiaty() if p.code not in covered]


def format_report(data: dict[str, Any], limit: int = 30) -> str:
    """Plain-text report in Polish; long lists are cut to `limit` entries with the total shown."""
    lines = ["Pokrycie katalogu (jednostki działające wobec danych krajowych)", ""]
    if data.get("demo_placeholders"):
        lines += [f"Rekordy demonstracyjne (nie liczą się do pokrycia): {data['demo_placeholders']}", ""]
    lines.append(f"{'typ':<22}{'w katalogu':>11}{'wszystkie':>11}  oczekiwane")
    for t in data["types"]:
        mark = {True: "ok", False: "ODBIEGA", None: "—"}[t["within"]]
        pub = t["published"]
        evidence = f"; dane publiczne: {pub['count']} ({pub['reference_date']})" if pub else ""
        lines.append(f"{t['label']:<22}{t['active']:>11}{t['all']:>11}  {t['expected']} [{mark}]{evidence}")
    if data.get("rjps"):
        rjps = data["rjps"]
        lines += ["", (f"RJPS (mapa z czerwca 2022) wymienia {rjps['listed']} jednostek; "
                      f"nazwy mamy dla {rjps['named']}.")]
    lines += ["", "Według województw (działające jednostki; OPS+CUS / liczba gmin):"]
    for w in data["wojewodztwa"]:
        parts = ", ".join(f"{_short(code)} {n}" for code, n in w["counts"].items()) or "brak danych"
        lines.append(f"  {w['code']} {w['name']:<22} OPS+CUS {w['ops+cus']}/{w['gminy']}; {parts}")
    if data["unlocated"]:
        lines.append(f"  bez przypisanego województwa: {data['unlocated']}")
    lines += _listing("Gminy bez OPS/CUS w katalogu", [
        f"{g['id6']} {g['name']} ({g['kind']})" for g in data["gminy_without_ops"]], limit)
    lines += _listing("Powiaty bez PCPR (ani MOPS/MOPR w mieście na prawach powiatu)", [
        f"{p['code']} {p['label']}" for p in data["powiaty_without_pcpr"]], limit)
    lines += _listing("Powiaty bez PUP (siedziby ani obszaru działania)", [
        f"{p['code']} {p['label']}" for p in data["powiaty_without_pup"]], limit)
    return "\n".join(lines)


def _short(code: str) -> str:
    try:
        info = TYPES[InstitutionType(code)]
    except ValueError:
        return code
    return info.abbreviations[0] if info.abbreviations else info.label


def _listing(title: str, entries: list[str], limit: int) -> list[str]:
    lines = ["", f"{title}: {len(entries)}"]
    lines += [f"  {e}" for e in entries[:limit]]
    if len(entries) > limit:
        lines.append(f"  … i {len(entries) - limit} więcej (pełna lista: --json)")
    return lines
