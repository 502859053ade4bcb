"""Honest placeholders: a demo record (source "demo", orchestration/demo.py) says that the catalog has no data
for the unit and what to do, and nothing more — on the detail page, in cards, on the home page's competent
offices and on the powiat sheet. Pages through the Flask client over the real SQLite sample catalog."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlmodel import select

from catalog import db
from catalog.merge import apply_fetch
from catalog.models import Institution, ScrapeRun
from catalog.records import FetchResult
from catalog.settings import Settings
from catalog.types import InstitutionType, Precision
from geo import teryt
from orchestration import demo
from tests.web.conftest import rebuild_index

CHOROSZCZ = "200201"   # gmina with a real CIS and WTZ in the sample catalog, but no real OPS


def add_placeholders(settings: Settings) -> dict[str, int]:
    """The demo adapter's own placeholders (its item builder) for gmina Choroszcz's OPS and powiat
    bielski's PUP, applied through the merge as `wsparcie load-demo` does."""
    g = teryt.gmina(CHOROSZCZ)
    assert g is not None and g.lat is not None
    items = [
        demo._item(f"ops-{g.id6}", InstitutionType.OPS, f"Ośrodek pomocy społecznej — gmina {g.name}",
                   g.woj_code, g.powiat_code, g.id6, (g.lat, g.lon), Precision.GMINA),
        demo._item("pup-2003", InstitutionType.PUP, "Powiatowy urząd pracy — powiat bielski", "20", "2003",
                   None, (52.77, 23.19), Precision.POWIAT, service_area=["2003"]),
    ]
    result = FetchResult(items=items, listed_keys={i.source_key for i in items}, complete=False)
    with db.session_scope(settings.database_url) as session:
        run = ScrapeRun(source="demo")
        session.add(run)
        session.flush()
        apply_fetch(session, demo.DEMO_META, result, run, settings)
    rebuild_index(settings)   # the ingest updates the index after a merge; here the test does
    with db.session_scope(settings.database_url) as session:
        rows = session.exec(select(Institution).where(Institution.is_demo == True)).all()
        return {r.type: r.id for r in rows}


@pytest.fixture
def placeholders(settings, ids) -> dict[str, int]:
    return add_placeholders(settings)


def _main(html: str) -> str:
    """The page's own content, without the site header, the demo banner and the footer."""
    return html[html.index('<main id="tresc"'):html.index("</main>")]


def test_placeholder_detail_says_no_data_and_what_to_do(client, ids, placeholders):
    real = _main(client.get(f"/instytucja/{ids['ops']}").get_data(as_text=True))
    # The real OPS page has what a placeholder must not: the checks below can fail.
    assert "Status:" in real and "openstreetmap.org" in real and "geo:" in real and "Jak się dostać" in real
    html = _main(client.get(f"/instytucja/{placeholders['ops']}").get_data(as_text=True))
    assert "Nie mamy jeszcze danych tej instytucji (gmina Choroszcz)" in html
    assert "Biuletyn Informacji Publicznej (BIP) urzędu gminy" in html and "Zadzwoń do urzędu gminy" in html
    assert 'href="/zrodla"' in html
    for claim in ("Status:", "class=\"status", "openstreetmap.org", 'href="geo:', "Otwórz w mapach", "Jak się dostać",
                  "small-map", "Dokładność położenia", "W pobliżu"):
        assert claim not in html, claim


def test_placeholder_card_in_list_has_no_map_buttons_or_distance(client, placeholders):
    html = _main(client.get("/instytucje?gmina=200201&woj=20&powiat=2002").get_data(as_text=True))
    card = html[html.index("Ośrodek pomocy społecznej — gmina Choroszcz"):]
    card = card[:card.index("</article>")]
    assert "rekord demonstracyjny" in card and "Nie mamy jeszcze danych tej instytucji (gmina Choroszcz)" in card
    assert "geo:" not in card and "openstreetmap" not in card and "stąd" not in card
    # A real card of the same list still offers its map buttons.
    real = html[html.index("Centrum Integracji Społecznej w Choroszczy"):]
    assert "Otwórz w mapach" in real[:real.index("</article>")]


def test_home_never_presents_a_placeholder_as_your_office(client, placeholders):
    html = _main(client.get("/?gdzie=Choroszcz").get_data(as_text=True))
    competent = html[html.index('id="competent-heading"'):html.index("</section>")]
    assert "Katalog nie ma jeszcze danych dla tej gminy (gmina Choroszcz)" in competent
    assert "ośrodek pomocy społecznej (gmina Choroszcz)" in competent
    assert "zadzwoń do urzędu gminy" in competent and 'href="/zrodla"' in competent
    # Not a card, not "w Twojej gminie", no link to the placeholder as if it were the office.
    assert "w Twojej gminie" not in competent
    assert f'href="/instytucja/{placeholders["ops"]}"' not in competent
    # The real PCPR of the powiat is still shown as a card.
    assert 'class="card"' in competent and "Powiatowe Centrum Pomocy Rodzinie w Białymstoku" in competent


def test_home_with_a_real_office_shows_it_as_the_office(client, placeholders):
    html = _main(client.get("/?gdzie=Zabłudów").get_data(as_text=True))
    competent = html[html.index('id="competent-heading"'):html.index("</section>")]
    assert "w Twojej gminie" in competent and "Gminny Ośrodek Pomocy Społecznej w Zabłudowie" in competent
    assert "Katalog nie ma jeszcze danych dla tej gminy" not in competent


def test_powiat_sheet_and_csv_flag_placeholders(client, placeholders):
    html = _main(client.get("/powiat/2002").get_data(as_text=True))
    row = html[html.index("Ośrodek pomocy społecznej — gmina Choroszcz"):]
    row = row[:row.index("</tr>")]
    assert "rekord demonstracyjny — brak danych" in row and "działa" not in row
    body = client.get("/powiat/2002.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body)))
    by_name = {r["Nazwa"]: r for r in rows}
    placeholder = by_name["Ośrodek pomocy społecznej — gmina Choroszcz (rekord demonstracyjny)"]
    assert placeholder["Rekord demonstracyjny"] == "tak" and placeholder["Status"] == "brak danych"
    real = by_name["Centrum Integracji Społecznej w Choroszczy"]
    assert real["Rekord demonstracyjny"] == "nie" and real["Status"] == "działa"


def test_powiat_csv_publishes_only_http_links(client, ids):
    body = client.get("/powiat/2002.csv").get_data(as_text=True)
    assert "javascript:" not in body
    assert "https://www.zabludow.example" in body


def test_demo_banner_is_one_line_with_details_behind_it(client, placeholders):
    html = client.get("/").get_data(as_text=True)
    banner = html[html.index('class="demo-banner"'):]
    banner = banner[:banner.index("</details>")]
    summary = re.search(r"<summary>(.*?)</summary>", banner, re.DOTALL)
    assert summary and "Dane demonstracyjne" in summary.group(1)
    assert 'href="/zrodla"' in banner
