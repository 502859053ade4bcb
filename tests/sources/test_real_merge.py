"""Cross-source merge on the real documents (data/registries/real/wojewoda, SOURCE.md).

The real ŚUW OPS list meets a second source that writes the same offices the way RJPS does ("MOPS w …",
"Gminny Ośrodek …", phones without punctuation): each becomes one institution with per-field provenance.
The bundled documents themselves overlap only once (the Małopolska violence base lists an intervention
room *inside* a DPS of the MUW DPS list): that must stay two institutions."""
from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.models import FieldProvenance, Institution, SourceRecord
from catalog.records import FetchResult, SourceItem
from orchestration import pipeline
from orchestration.import_document import import_document
from scrapers.base import SourceMeta

REAL = Path(__file__).resolve().parents[2] / "data" / "registries" / "real" / "wojewoda"


class RjpsShaped:
    """Records as RJPS writes them (abbreviated names, bare phone digits); the facts are the ŚUW list's."""

    meta = SourceMeta(key="rjps", name="RJPS", url="https://rjps.mrips.gov.pl", licence="-", attribution="-")

    def __init__(self, items: list[SourceItem]) -> None:
        self.items = items

    def fetch(self, client, settings) -> FetchResult:
        return FetchResult(items=self.items, listed_keys={i.source_key for i in self.items}, complete=False)


def _rjps(key: str, name: str, street: str, building: str, postal: str, locality: str, phone: str) -> SourceItem:
    return SourceItem(source="rjps", source_key=key, fields={
        "name": name, "type": "ops", "rjps_id": key, "street": street, "building": building,
        "postal_code": postal, "locality": locality, "phones": [{"raw": phone, "e164": f"+48{phone}"}]})


def _current(session, inst_id: int, field: str) -> dict[str, str]:
    rows = session.exec(select(FieldProvenance).where(
        FieldProvenance.institution_id == inst_id, FieldProvenance.field == field, FieldProvenance.current())).all()
    return {r.source: r.value for r in rows}


def test_the_same_ops_in_the_official_list_and_rjps_is_one_institution(data_dir):
    s = settings_mod.load()
    summary = import_document(s, REAL / "slaskie" / "ops_wykaz_2023-07-18.pdf", "ops", "ops-24")
    assert summary.ok and summary.n_new == 167
    rjps = RjpsShaped([
        _rjps("900001", "MOPS w Będzinie", "ul. 11 Listopada", "1", "42-500", "Będzin", "322962131"),
        _rjps("900002", "Gminny Ośrodek Pomocy Społecznej w Bobrownikach", "ul. Kościuszki", "25c", "42-584",
              "Dobieszowice", "322877863"),
    ])
    merged = pipeline.run_adapter(s, rjps)
    assert merged.ok and merged.n_new == 0, merged.message
    with session_scope(s.database_url) as session:
        assert len(session.exec(select(Institution)).all()) == 167
        for key, list_name in (("900001", "Miejski Ośrodek Pomocy Społecznej w Będzinie"),
                               ("900002", "Ośrodek Pomocy Społecznej w Bobrownikach")):
            record = session.exec(select(SourceRecord).where(SourceRecord.source_key == key)).one()
            assert record.match_method in ("fuzzy", "name-place")
            assert record.match_detail["names"][1] == list_name
            inst = session.get(Institution, record.institution_id)
            assert inst.rjps_id == key
            # per-field provenance: both sources' names kept, the e-mail only the list gives, phones from both
            names = _current(session, inst.id, "name")
            assert set(names) == {"ops-24", "rjps"} and list_name in names["ops-24"]
            assert set(_current(session, inst.id, "email")) == {"ops-24"}
            assert set(_current(session, inst.id, "phones")) == {"ops-24", "rjps"}
            assert set(_current(session, inst.id, "gmina_id6")) == {"ops-24"}


def test_an_intervention_room_inside_a_dps_is_not_the_dps(demo_snapshot, monkeypatch):
    monkeypatch.setenv("WSPARCIE_DATA_DIR", str(demo_snapshot))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        room = session.exec(select(SourceRecord).where(
            SourceRecord.source == "przemoc-12",
            SourceRecord.source_key.contains("lokal-interwencyjny"))).one()
        dps = session.exec(select(Institution).where(Institution.name == "Dom Pomocy Społecznej „Dom Kombatanta”")).one()
        assert room.institution_id != dps.id and room.match_method == "new"
        sources = {r.source for r in session.exec(select(SourceRecord).where(SourceRecord.institution_id == dps.id))}
        assert sources == {"dps-12"}
