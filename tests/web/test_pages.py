"""HTML pages through the Flask test client over a real SQLite catalog."""
from __future__ import annotations

import csv
import io
import re

from sqlmodel import select

from catalog import db
from catalog.models import Institution


def test_home_form_and_need_links(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="pl">' in html
    assert 'href="#tresc"' in html and 'id="tresc"' in html
    assert 'label for="q"' in html and "Czego szukasz?" in html and "Gdzie?" in html
    for label in ("Praca", "Pomoc społeczna", "Niepełnosprawność", "Ekonomia społeczna"):
        assert label in html
    assert "potrzeba=praca" in html


def test_home_text_search_lists_matches_with_call_links(client):
    html = client.get("/?q=Zabłud").get_data(as_text=True)
    assert "Gminny Ośrodek Pomocy Społecznej w Zabłudowie" in html
    assert 'href="tel:+48857188100"' in html
    assert "geo:53.014600,23.338400" in html
    assert "openstreetmap.org/?mlat=53.014600" in html
    assert "Ośrodek Pomocy Społecznej w Krakowie" not in html


def test_home_need_filters_by_type(client):
    html = client.get("/?potrzeba=niepelnosprawnosc").get_data(as_text=True)
    assert "Warsztat Terapii Zajęciowej w Choroszczy" in html
    assert "Powiatowy Urząd Pracy w Białymstoku" not in html


def test_home_geolocation_point_sorts_nearest_first(client):
    html = client.get("/?lat=53.145&lon=22.986").get_data(as_text=True)
    html = html[html.index('id="matches-heading"'):]
    names = re.findall(r'class="card-title"><a href="/instytucja/\d+">([^<]+)</a>', html)
    assert names[:2] == ["Warsztat Terapii Zajęciowej w Choroszczy", "Centrum Integracji Społecznej w Choroszczy"]
    # Only what is near: Kraków (about 400 km away) is not offered while closer help exists.
    assert "Ośrodek Pomocy Społecznej w Krakowie" not in names
    assert "w promieniu 25 km" in html


def test_home_unknown_place_shows_polish_message(client):
    html = client.get("/?gdzie=Xyzzyqwerty").get_data(as_text=True)
    assert "Nie znaleźliśmy miejsca „Xyzzyqwerty”" in html or "Xyzzyqwerty" in html


def test_list_filters_by_powiat_and_type(client):
    html = client.get("/instytucje?woj=20&powiat=2002&typ=cis").get_data(as_text=True)
    assert "Centrum Integracji Społecznej w Choroszczy" in html
    assert "Gminny Ośrodek" not in html
    assert "Wyniki: 1" in html
    # The powiat select is offered once a województwo is chosen, with the chosen one selected.
    assert '<option value="2002" selected>powiat białostocki</option>' in html


def test_list_filters_by_woj_and_status(client):
    html = client.get("/instytucje?woj=12").get_data(as_text=True)
    assert "Ośrodek Pomocy Społecznej w Krakowie" in html and "Zabłud" not in html
    html = client.get("/instytucje?status=possibly-closed").get_data(as_text=True)
    assert "Wyniki: 1" in html


def test_list_ignores_invalid_filters_and_paginates(client, settings, reindex):
    assert client.get("/instytucje?woj=<script>&powiat=abc&typ=nope&strona=-4").status_code == 200
    with db.session_scope(settings.database_url) as s:
        s.add_all(Institution(name=f"Klub Seniora {n:02d}", type="other") for n in range(25))
    reindex()
    html = client.get("/instytucje?q=Seniora&typ=other").get_data(as_text=True)
    assert "Wyniki: 25" in html and "Strona 1 z 2" in html and "strona=2" in html
    html2 = client.get("/instytucje?q=Seniora&typ=other&strona=2").get_data(as_text=True)
    first, second = (set(re.findall(r"Klub Seniora \d\d", h)) for h in (html, html2))
    # Equal scores rank in the index's order, not by name: the pages must still split the 25 exactly.
    assert len(first) == 20 and len(second) == 5 and not first & second


def test_detail_shows_everything(client, ids):
    html = client.get(f"/instytucja/{ids['ops']}").get_data(as_text=True)
    assert "<h1>Gminny Ośrodek Pomocy Społecznej w Zabłudowie</h1>" in html
    assert "ul. Rynek 8, 16-060 Zabłudów" in html
    assert "gmina Zabłudów, powiat białostocki, woj. podlaskie" in html
    assert 'href="https://www.zabludow.example"' in html
    assert "dokładny adres" in html                       # precision label from catalog.types
    assert "Pierwszy adres, gdy brakuje pieniędzy" in html  # what the type does
    # per-field provenance with both dates
    assert "Ostatnio widziane" in html and "Aktualizacja w źródle" in html
    assert "03.11.2025" in html and "85 718 81 00" in html
    assert "<td>Rejestr Jednostek Polityki Społecznej (RJPS)</td>" in html
    assert 'name="csrf_token"' in html and 'name="strona_www"' in html


def test_detail_warns_when_the_source_has_not_updated_for_years(client, ids):
    from datetime import date

    from webapp.present import is_stale

    html = client.get(f"/instytucja/{ids['ops']}").get_data(as_text=True)
    assert "Rejestr nie aktualizował tych danych" not in html        # updated 2025-11-03: recent
    inst = type("I", (), {"source_updated_at": date(2013, 12, 13)})()
    assert is_stale(inst, today=date(2026, 11, 22))
    assert not is_stale(type("I", (), {"source_updated_at": None})())


def test_detail_referral_path_and_service_area(client, ids):
    html = client.get(f"/instytucja/{ids['cis']}").get_data(as_text=True)
    assert "Potrzebne skierowanie z ośrodka pomocy społecznej" in html
    assert "Gdzie po skierowanie" in html and "Powiatowe Centrum Pomocy Rodzinie w Białymstoku" in html
    assert "miejscowość (przybliżenie)" in html and "punkt może być oddalony" in html
    assert "30.04.2027" in html
    assert "Telefon: 85 719 00 00 wew. 5" in html and "tel. 85 719" not in html
    owes = client.get(f"/instytucja/{ids['owes']}").get_data(as_text=True)
    assert "Białystok (miasto na prawach powiatu), powiat białostocki, powiat bielski" in owes
    assert "Fundacja Partner (partner)" in owes


def test_detail_escapes_scraped_strings_and_unsafe_links(client, ids, xss_name):
    html = client.get(f"/instytucja/{ids['kis']}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    assert "możliwe, że zamknięta" in html


def test_detail_404_in_polish(client):
    resp = client.get("/instytucja/999999")
    assert resp.status_code == 404 and "Nie znaleziono strony" in resp.get_data(as_text=True)


def test_powiat_sheet_groups_owes_changes(client):
    html = client.get("/powiat/2002").get_data(as_text=True)
    assert "Partnerzy: powiat białostocki" in html
    order = [html.index(h) for h in ("Ośrodki pomocy społecznej (", "Powiatowe centra pomocy rodzinie (",
                                      "Centra integracji społecznej (", "Kluby integracji społecznej (",
                                      "Warsztaty terapii zajęciowej (")]
    assert order == sorted(order)
    owes = html[html.index("OWES obsługujący powiat"):]
    assert "Podlaski Ośrodek Wsparcia Ekonomii Społecznej" in owes[:2000]
    assert "Powiatowy Urząd Pracy w Białymstoku" in html   # serves 2002 from the city
    changes = html[html.index("Zmiany od"):]
    assert "Nowe (1)" in changes and "Zmienione (1)" in changes
    assert "Możliwe, że zamknięte (brak w ostatnich danych źródła) (1)" in changes
    assert "Warsztat Terapii" not in changes               # its change is older than the default window
    old = client.get("/powiat/2002?od=2020-01-01").get_data(as_text=True)
    assert "Zmienione (2)" in old[old.index("Zmiany od"):]
    assert 'href="/powiat/2002.csv"' in html and "css/print.css" in html


def test_powiat_csv(client):
    resp = client.get("/powiat/2002.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["Rodzaj", "Nazwa"]
    names = {r[1] for r in rows[1:]}
    assert "Centrum Integracji Społecznej w Choroszczy" in names
    assert "Podlaski Ośrodek Wsparcia Ekonomii Społecznej" in names
    assert "Ośrodek Pomocy Społecznej w Krakowie" not in names
    ops = next(r for r in rows if r[1].startswith("Gminny"))
    assert ops[0] == "Ośrodek pomocy społecznej" and ops[6] == "85 718 81 00"


def test_unknown_powiat_404(client):
    assert client.get("/powiat/9999").status_code == 404
    assert client.get("/powiat/9999.csv").status_code == 404


def test_sources_page(client):
    html = client.get("/zrodla").get_data(as_text=True)
    assert "Rejestr Jednostek Polityki Społecznej (RJPS)" in html
    assert "częściowo udane" in html and "HTTP 500" in html and "15.01.2026" in html
    for credit in ("TERYT", "PRG", "ODbL", "GeoNames", "PRNG"):
        assert credit in html
    assert client.get("/o-danych").status_code == 302


def test_health(client, settings):
    from index import api as index_api

    with db.session_scope(settings.database_url) as session:   # healthy means: the index answers too
        index_api.rebuild(settings, session)
    resp = client.get("/zdrowie")
    body = resp.get_json()
    assert resp.status_code == 200 and body["ok"] and body["database"] is True
    assert body["sources"][0]["key"] == "rjps" and body["sources"][0]["last_run"]["errors"] == 1


def test_demo_banner_only_with_demo_records(client, settings):
    assert "Dane demonstracyjne" not in client.get("/").get_data(as_text=True)
    with db.session_scope(settings.database_url) as s:
        s.add(Institution(name="Przykładowy OPS", type="ops", is_demo=True))
    for url in ("/", "/instytucje", "/zrodla", "/powiat/2002"):
        assert "Dane demonstracyjne" in client.get(url).get_data(as_text=True), url


def test_map_page_without_js_links_to_list(client):
    html = client.get("/mapa?typ=cis").get_data(as_text=True)
    assert "Mapa instytucji" in html
    assert "/instytucje?typ=cis" in html


def test_all_pages_have_single_h1_and_landmarks(client, ids):
    for url in ("/", "/?q=pomoc", "/instytucje", f"/instytucja/{ids['ops']}", "/powiat/2002", "/zrodla",
                "/powiaty", "/mapa"):
        html = client.get(url).get_data(as_text=True)
        assert html.count("<h1") == 1, url
        assert "<main" in html and "<nav" in html and "<footer" in html, url


def test_report_form_needs_existing_institution(client, settings):
    with db.session_scope(settings.database_url) as s:
        assert s.exec(select(Institution)).first() is not None
    assert client.post("/instytucja/999999/zglos", data={"message": "x" * 20}).status_code in (400, 404)


def test_pages_use_the_search_index_when_built(client, settings):
    from index import api as index_api

    with db.session_scope(settings.database_url) as s:
        index_api.rebuild(settings, s)
        # A row added after the build is in the catalog but not in the index: the pages must not show it.
        s.add(Institution(name="Ośrodek Pomocy Społecznej w Zabłudowie — filia", type="ops", woj_teryt="20"))
    html = client.get("/?q=zabludow").get_data(as_text=True)    # typed without Polish letters
    assert "Gminny Ośrodek Pomocy Społecznej w Zabłudowie" in html and "filia" not in html
    html = client.get("/instytucje?q=osrodek&woj=20&typ=ops").get_data(as_text=True)
    assert "Wyniki: 1" in html and "Gminny Ośrodek Pomocy Społecznej w Zabłudowie" in html
