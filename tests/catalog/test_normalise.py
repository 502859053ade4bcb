"""The one normalisation stage (catalog.normalise, run by the merge) and the one text folding (catalog.text)."""
from __future__ import annotations

from sqlmodel import select

from catalog.db import session_scope, upgrade
from catalog.merge import apply_fetch
from catalog.models import FieldProvenance, Institution, ScrapeRun
from catalog.normalise import normalise_fields
from catalog.records import FetchResult, SourceItem
from catalog.settings import load
from catalog.text import fold, fold_spaces, strip_diacritics
from scrapers.base import SourceMeta


def test_phones_and_address_parts_are_parsed_from_the_raw_text():
    out = normalise_fields({"phones_raw": "tel. 85 718 81 00", "address_raw": "ul. Rynek 8, 16-060 Zabłudów"})
    assert out["phones"] == [{"raw": "85 718 81 00", "e164": "+48857188100"}]
    assert (out["street"], out["building"], out["postal_code"], out["locality"]) == (
        "ul. Rynek", "8", "16-060", "Zabłudów")


def test_what_the_source_gave_separately_is_kept():
    given = [{"raw": "85 718 81 00", "e164": "+48857188100"}]
    out = normalise_fields({"phones_raw": "85 718 81 00 wew. 2", "phones": given, "locality": "Grabówka",
                            "address_raw": "ul. Rynek 8, 16-060 Zabłudów"})
    assert out["phones"] is given and out["locality"] == "Grabówka" and out["postal_code"] == "16-060"


def test_the_merge_normalises_and_records_the_parsed_values_as_the_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("WSPARCIE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load()
    upgrade(settings.database_url)
    meta = SourceMeta(key="owes", name="OWES", url="https://example.invalid", licence="-", attribution="-")
    item = SourceItem(source="owes", source_key="k1", fields={
        "name": "OWES (test)", "type": "owes", "phones_raw": "tel. 85 718 81 00",
        "address_raw": "ul. Rynek 8, 16-060 Zabłudów"})
    with session_scope(settings.database_url) as session:
        run = ScrapeRun(source="owes")
        session.add(run)
        session.flush()
        apply_fetch(session, meta, FetchResult(items=[item], listed_keys={"k1"}), run, settings)
    with session_scope(settings.database_url) as session:
        inst = session.exec(select(Institution)).one()
        assert inst.phones[0]["e164"] == "+48857188100" and inst.postal_code == "16-060"
        sources = set(session.exec(select(FieldProvenance.source).where(
            FieldProvenance.field.in_(("phones", "postal_code")))).all())
        assert sources == {"owes"}


def test_three_strengths_of_one_folding():
    assert strip_diacritics("Łódź  Bałuty, ul. Żółta") == "lodz  baluty, ul. zolta"
    assert fold_spaces(" m. st.  Warszawa ") == "m. st. warszawa"
    assert fold("Kędzierzyn-Koźle") == "kedzierzyn kozle" and fold("Zabłudów") == "zabludow"
    assert fold(None) == fold_spaces(None) == strip_diacritics(None) == ""
    for text in ("Gminny Ośrodek Pomocy Społecznej w Zabłudowie", "ŚDS „Przystań”", "Ćmielów"):
        assert fold(text) == " ".join(fold(fold_spaces(text)).split())
