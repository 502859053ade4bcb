"""Places as data on the pages: the detail page and the powiat sheet (+ CSV) show places, free places, their
date and the source (from provenance); /instytucje filters "tylko z wolnymi miejscami" through the search
index and through the SQL fallback alike. DPS rows go in through the real merge (catalog.merge)."""
from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date

import pytest
from sqlmodel import select

from catalog import db
from catalog.merge import apply_fetch
from catalog.models import Institution, ScrapeRun, SourceRecord
from catalog.records import FetchResult, SourceItem
from catalog.settings import Settings
from index import api as index_api
from scrapers.base import SourceMeta
from tests.web.conftest import rebuild_index

DPS_META = SourceMeta(key="dps-20", name="Wykaz DPS — Podlaski Urząd Wojewódzki (PUW)",
                      url="https://www.gov.pl/web/uw-podlaski", licence="informacja publiczna",
                      attribution="Podlaski Urząd Wojewódzki w Białymstoku")
AS_OF = date(2026, 6, 30)
LINE = "Miejsca: 120, wolne: 7 (stan na 30.06.2026, źródło: Wykaz DPS — Podlaski Urząd Wojewódzki (PUW))"


def _dps(key: str, name: str, total: int | None, free: int | None, **fields) -> SourceItem:
    data = {"name": name, "type": "dps", "street": "ul. Dominikańska", "building": key, "postal_code": "16-070",
            "locality": "Choroszcz", "woj_teryt": "20", "powiat_teryt": "2002", "gmina_id6": "200201",
            "lat": 53.146, "lon": 22.99, "geo_precision": "address", "places_total": total, "places_free": free,
            "places_as_of": AS_OF if total is not None or free is not None else None, **fields}
    return SourceItem(source=DPS_META.key, source_key=key, fields={k: v for k, v in data.items() if v is not None},
                      raw={"name": name}, source_updated_at=AS_OF)


def add_dps(settings: Settings) -> dict[str, int]:
    """Three DPS of gmina Choroszcz from the wojewoda's list: 7 free places, none free, places unknown."""
    items = [_dps("1", "Dom Pomocy Społecznej „Pod Lipami” w Choroszczy", 120, 7),
             _dps("2", "Dom Pomocy Społecznej dla Dzieci w Choroszczy", 60, 0),
             _dps("3", "Dom Pomocy Społecznej „Przystań” w Choroszczy", None, None)]
    result = FetchResult(items=items, listed_keys={i.source_key for i in items}, complete=False)
    with db.session_scope(settings.database_url) as session:
        run = ScrapeRun(source=DPS_META.key)
        session.add(run)
        session.flush()
        apply_fetch(session, DPS_META, result, run, settings)
    with db.session_scope(settings.database_url) as session:
        records = session.exec(select(SourceRecord).where(SourceRecord.source == DPS_META.key)).all()
        by_key = {r.source_key: r.institution_id for r in records}
    rebuild_index(settings)   # the ingest updates the index after a merge; here the test does
    return {"free": by_key["1"], "full": by_key["2"], "unknown": by_key["3"]}


@pytest.fixture
def dps(settings, ids) -> dict[str, int]:
    return add_dps(settings)


def _main(html: str) -> str:
    return html[html.index('<main id="tresc"'):html.index("</main>")]


def test_detail_shows_places_with_date_and_source(client, dps):
    html = _main(client.get(f"/instytucja/{dps['free']}").get_data(as_text=True))
    assert LINE in html
    full = _main(client.get(f"/instytucja/{dps['full']}").get_data(as_text=True))
    assert "Miejsca: 60, wolne: 0 (stan na 30.06.2026" in full
    unknown = _main(client.get(f"/instytucja/{dps['unknown']}").get_data(as_text=True))
    head = unknown[:unknown.index('class="detail-grid"')]         # nearby cards below show their own places
    assert "<h1>Dom Pomocy Społecznej „Przystań” w Choroszczy</h1>" in head
    assert "Miejsca:" not in head and "wolne:" not in head
    assert "Miejsca: 120, wolne: 7" in unknown[unknown.index('id="nearby-heading"'):]


def test_powiat_sheet_and_csv_show_places(client, dps):
    html = _main(client.get("/powiat/2002").get_data(as_text=True))
    row = html[html.index("Dom Pomocy Społecznej „Pod Lipami” w Choroszczy"):]
    assert LINE in row[:row.index("</tr>")]
    body = client.get("/powiat/2002.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = {r["Nazwa"]: r for r in csv.DictReader(io.StringIO(body))}
    free = rows["Dom Pomocy Społecznej „Pod Lipami” w Choroszczy"]
    assert (free["Miejsca"], free["Wolne miejsca"], free["Miejsca — stan na"]) == ("120", "7", "30.06.2026")
    assert free["Miejsca — źródło"] == DPS_META.name
    unknown = rows["Dom Pomocy Społecznej „Przystań” w Choroszczy"]
    assert (unknown["Miejsca"], unknown["Wolne miejsca"], unknown["Miejsca — źródło"]) == ("", "", "")


def _names(html: str) -> list[str]:
    import re

    return re.findall(r'class="card-title"><a href="/instytucja/\d+">([^<]+)</a>', html)


def test_list_filter_free_places_without_an_index(app_without_index, dps, settings):
    import shutil

    shutil.rmtree(settings.index_dir)   # dps built one: this test is about the SQL path
    client = app_without_index.test_client()
    html = client.get("/instytucje?typ=dps").get_data(as_text=True)
    assert len(_names(html)) == 3
    assert 'name="wolne" value="1"' in html and "tylko z wolnymi miejscami" in html
    html = client.get("/instytucje?typ=dps&wolne=1").get_data(as_text=True)
    assert "tryb awaryjny" in html or "trybie awaryjnym" in html        # this is the SQL path
    assert _names(html) == ["Dom Pomocy Społecznej „Pod Lipami” w Choroszczy"]
    assert 'name="wolne" value="1" checked' in html
    # Without a type too: only institutions with free places at all.
    assert _names(client.get("/instytucje?wolne=1").get_data(as_text=True)) == [
        "Dom Pomocy Społecznej „Pod Lipami” w Choroszczy"]


def test_list_filter_free_places_through_the_index(client, settings, dps):
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
    html = client.get("/instytucje?q=dom+pomocy&wolne=1").get_data(as_text=True)
    assert "trybie awaryjnym" not in html                              # the search index answered
    assert _names(html) == ["Dom Pomocy Społecznej „Pod Lipami” w Choroszczy"]
    html = client.get("/instytucje?q=dom+pomocy").get_data(as_text=True)
    assert len(_names(html)) == 3


@pytest.mark.parametrize("backend", ["tantivy", "whoosh"])
def test_both_index_backends_filter_free_places(settings, dps, backend):
    s = dataclasses.replace(settings, search_backend=backend)
    with db.session_scope(s.database_url) as session:
        index_api.rebuild(s, session)
    hits = index_api.search(s, index_api.SearchQuery(text="Choroszcz", free_places=True)).hits
    assert [h.id for h in hits] == [dps["free"]]
    assert len(index_api.search(s, index_api.SearchQuery(text="Choroszcz")).hits) > 1


def test_index_document_places_value():
    from index.documents import PLACES_FREE, PLACES_FULL, PLACES_UNKNOWN, build

    def doc(free):
        return build(Institution(id=1, name="DPS", type="dps", places_free=free)).places

    assert (doc(3), doc(0), doc(None)) == (PLACES_FREE, PLACES_FULL, PLACES_UNKNOWN)


def test_provenance_table_names_the_places_fields_in_polish(client, dps):
    html = _main(client.get(f"/instytucja/{dps['free']}").get_data(as_text=True))
    table = html[html.index('id="sources-heading"'):]
    assert '<th scope="row">Wolne miejsca</th><td>7</td>' in table
    assert '<th scope="row">Liczba miejsc</th><td>120</td>' in table
    assert "places_free" not in table and "places_total" not in table
