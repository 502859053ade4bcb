"""Crisis help first (helplines before any result), zero results that never end the road (logged, text only),
and long ambiguity lists grouped by województwo — through the Flask test client over the real catalog."""
from __future__ import annotations

import dataclasses
import logging
import re

import pytest
from sqlalchemy import text
from sqlmodel import select

from catalog import db
from catalog.models import Institution, ZeroResultQuery
from webapp import helplines

HELPLINE_NUMBERS = ["112", "116123", "800702222", "800120002", "116111"]
CRISIS_PAGES = ["/?q=mąż mnie bije", "/?q=myśli samobójcze", "/?q=przemoc&gdzie=Kraków", "/?potrzeba=przemoc",
                "/instytucje?q=mąż mnie bije", "/instytucje?q=myśli samobójcze", "/instytucje?potrzeba=przemoc",
                "/instytucje?q=przemoc Kraków", "/instytucje?typ=oik"]


# A word no institution of the test catalog matches, a need word ("wózek") is near: a zero-result search
# that has suggestions. Should the thesaurus learn it, the guard below says so first.
ZERO_QUERY = "wózeczek"


def test_zero_query_still_finds_nothing_but_is_near_a_need_word():
    from index import needs

    assert needs.detect(ZERO_QUERY).needs == ()
    assert [s.phrase for s in needs.suggest(ZERO_QUERY)][:1] == ["wózek"]


def _html(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _zero_rows(settings) -> list[ZeroResultQuery]:
    with db.session_scope(settings.database_url) as session:
        return list(session.exec(select(ZeroResultQuery).order_by(ZeroResultQuery.id)).all())


def test_helpline_file_is_curated_and_checked(tmp_path):
    data = helplines.load()
    assert [h.number for h in data.helplines] == HELPLINE_NUMBERS      # 112 first, as the file says
    assert all(h.hours and h.name and h.source.startswith("https://") for h in data.helplines)
    assert data.quick_exit_url.startswith("https://")
    assert "oik" in data.crisis_types
    bad = tmp_path / "bad.toml"
    bad.write_text(helplines.HELPLINES_FILE.read_text("utf-8").replace('number = "116123"', 'number = "116 123"'),
                   "utf-8")
    with pytest.raises(ValueError, match="dialled as its digits"):
        helplines.load(bad)


@pytest.mark.parametrize("path", CRISIS_PAGES)
def test_crisis_pages_show_helplines_and_quick_exit_before_any_result(client, path):
    html = _html(client, path)
    box = html.index('class="helplines"')
    assert html.index('id="quick-exit"') < box
    for number in HELPLINE_NUMBERS:
        assert f'href="tel:{number}"' in html, number       # plain digits: dialable everywhere
    assert "800 120 002" in html and "Niebieska Linia" in html and "116 111" in html
    if 'class="card"' in html:
        assert box < html.index('class="card"'), "helplines come before every result"
    assert box < html.index('id="q"' if path.startswith("/?") else 'class="filters"')
    exit_link = re.search(r'<a class="quick-exit" id="quick-exit" href="([^"]+)" rel="([^"]+)"', html)
    assert exit_link and exit_link.group(1) == helplines.load().quick_exit_url
    assert "noreferrer" in exit_link.group(2)
    assert re.search(r'<script src="/static/js/quick-exit\.js" nonce="[^"]+" defer></script>', html)


@pytest.mark.parametrize("path", ["/?q=zasiłek", "/?q=urząd pracy&gdzie=Zabłudów", "/instytucje?q=zasiłek",
                                  "/instytucje?potrzeba=praca", "/", "/instytucje"])
def test_other_pages_show_no_helplines(client, path):
    html = _html(client, path)
    assert 'class="helplines"' not in html and "quick-exit" not in html


def test_crisis_type_institution_page_shows_helplines(app, client, settings, ids):
    with db.session_scope(settings.database_url) as session:
        oik = Institution(name="Ośrodek Interwencji Kryzysowej w Białymstoku", type="oik", locality="Białystok",
                          woj_teryt="20", powiat_teryt="2061", gmina_id6="206101", lat=53.13, lon=23.16)
        session.add(oik)
        session.flush()
        oik_id = oik.id
    html = _html(client, f"/instytucja/{oik_id}")
    assert 'class="helplines"' in html and 'href="tel:800120002"' in html
    assert html.index("<h1>") < html.index('class="helplines"') < html.index('class="detail-grid"')
    assert 'class="helplines"' not in _html(client, f"/instytucja/{ids['ops']}")


def test_zero_results_said_plainly_ask_for_a_place_and_suggest_needs(client, settings):
    html = _html(client, "/?q=wózeczek")
    assert "Nie znaleźliśmy instytucji dla „wózeczek”" in html
    assert 'id="zero-gdzie"' in html and 'name="q" value="wózeczek"' in html     # asks where, keeps the words
    assert '<a href="/?q=w%C3%B3zek">wózek</a>' in html                           # the nearest need word
    assert 'href="/?potrzeba=niepelnosprawnosc"' in html                           # and its need
    assert 'id="matches-heading"' not in html
    rows = _zero_rows(settings)
    assert [(r.query_text, r.query_folded, r.place_text, r.need, r.count) for r in rows] == [
        ("wózeczek", "wozeczek", "", "", 1)]


def test_zero_results_with_a_place_show_its_competent_offices(client, settings):
    html = _html(client, "/?q=wózeczek&gdzie=Zabłudów")
    zero = html.index('id="zero-heading"')
    competent = html.index('id="competent-heading"')
    assert zero < competent
    assert "Gminny Ośrodek Pomocy Społecznej w Zabłudowie" in html[competent:]
    assert 'id="zero-gdzie"' not in html                       # the place is known: no question
    _html(client, "/?q=WÓZECZEK&gdzie=zabludow")                  # the same search, typed otherwise
    rows = _zero_rows(settings)
    assert [(r.query_folded, r.place_folded, r.count) for r in rows] == [("wozeczek", "zabludow", 2)]


def test_list_zero_results_logged_with_area_words(client, settings):
    html = _html(client, "/instytucje?q=wózeczek&powiat=2002")
    assert "Nie znaleźliśmy instytucji dla „wózeczek” przy tych filtrach." in html
    assert 'action="/"' in html and 'id="zero-gdzie"' in html
    assert '<a href="/instytucje?q=w%C3%B3zek">wózek</a>' in html
    _html(client, "/instytucje?q=wózeczek&powiat=2002&strona=2")   # a later page is not another search
    _html(client, "/instytucje?q=urząd pracy")                   # found: not logged
    rows = _zero_rows(settings)
    assert [(r.query_folded, r.place_text, r.count) for r in rows] == [("wozeczek", "powiat białostocki", 1)]


def test_zero_result_log_keeps_no_client_data(client, settings):
    client.get("/?q=qwertyuiop", headers={"User-Agent": "Secret-Agent/1.0", "X-Forwarded-For": "203.0.113.9"},
               environ_base={"REMOTE_ADDR": "198.51.100.7"})
    with db.get_engine(settings.database_url).connect() as conn:
        dumped = " ".join(str(v) for row in conn.execute(text("SELECT * FROM zeroresultquery")) for v in row)
    assert "qwertyuiop" in dumped
    assert not any(secret in dumped for secret in ("Secret-Agent", "203.0.113.9", "198.51.100.7"))


def test_a_failing_zero_result_write_never_breaks_the_page(client, settings, caplog):
    with db.get_engine(settings.database_url).begin() as conn:
        conn.execute(text("DROP TABLE zeroresultquery"))
    with caplog.at_level(logging.WARNING, logger="webapp.lookup"):
        html = _html(client, "/?q=wózeczek")
    assert "Nie znaleźliśmy instytucji" in html
    assert any("zero-result search not recorded" in r.getMessage() for r in caplog.records)


def test_a_read_only_catalog_skips_the_zero_result_log(settings, ids, caplog):
    from index import api as index_api
    from webapp import create_app

    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
    path = settings.database_url.split("///", 1)[1]
    read_only = dataclasses.replace(settings, database_url=f"sqlite:///file:{path}?mode=ro&uri=true")
    client = create_app({"TESTING": True, "SETTINGS": read_only}).test_client()
    with caplog.at_level(logging.INFO, logger="webapp.lookup"):
        for _ in range(2):
            assert "Nie znaleźliśmy instytucji" in _html(client, "/?q=wózeczek")
    notes = [r for r in caplog.records if r.name == "webapp.lookup"]
    assert [(r.levelno, r.getMessage()) for r in notes] == [
        (logging.INFO, "catalog is read-only: zero-result searches are not recorded")]   # once, not a warning
    db.get_engine(read_only.database_url).dispose()
    assert _zero_rows(settings) == []


@pytest.mark.postgres
def test_zero_result_log_on_postgresql_counts_and_skips_read_only(postgres_url, caplog):
    from catalog import settings as settings_mod
    from webapp import create_app, lookup

    settings = settings_mod.load()
    db.upgrade(settings.database_url)
    app = create_app({"TESTING": True, "SETTINGS": settings})
    with app.app_context():
        for query in ("Eksmisja", "eksmisja "):
            lookup.log_zero_result(settings, query, "Będzin", None)
    assert [(r.query_folded, r.place_folded, r.count) for r in _zero_rows(settings)] == [("eksmisja", "bedzin", 2)]
    name = postgres_url.rsplit("/", 1)[1]
    with db.get_engine(settings.database_url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    db.get_engine(settings.database_url).dispose()    # new connections get the read-only default
    with app.app_context(), caplog.at_level(logging.INFO, logger="webapp.lookup"):
        lookup.log_zero_result(settings, "eksmisja", "Będzin", None)
    assert [r.levelno for r in caplog.records if r.name == "webapp.lookup"] == [logging.INFO]
    assert [r.count for r in _zero_rows(settings)] == [2]
    db.get_engine(settings.database_url).dispose()


@pytest.mark.parametrize("name", ["Nowa Wieś", "Dąbrowa", "Zalesie"])
def test_long_ambiguity_lists_are_grouped_by_wojewodztwo(client, name):
    html = _html(client, f"/?gdzie={name}")
    assert "Którą miejscowość masz na myśli?" in html
    groups = re.findall(r'<details class="choice-group"[^>]*>\s*<summary>woj\. ([^<]+?) <span', html)
    assert len(groups) == len(set(groups)) >= 10
    assert groups == sorted(groups, key=lambda g: [("aąbcćdeęfghijklłmnńoóprsśtuvwxyzźż".index(c)
                                                    if c in "aąbcćdeęfghijklłmnńoóprsśtuvwxyzźż" else 99)
                                                   for c in g])           # Polish alphabetical order
    choices = re.findall(r'<a href="/\?gdzie=[^"]+" data-simc="\d+">' + name + r", gmina [^<]+</a>", html)
    assert len(choices) >= 100
    assert 'id="narrow-gdzie"' in html                     # narrowable with a plain form (no JS)


def test_narrowed_choice_list_is_flat_and_links_select_one(client):
    html = _html(client, "/?gdzie=Nowa Wieś, woj. małopolskie&q=urząd pracy")
    assert 'class="choice-group"' not in html
    links = re.findall(r'<a href="(/\?gdzie=[^"]+)" data-simc="\d+">Nowa Wieś, gmina ([^<]+)</a>', html)
    assert 2 <= len(links) <= 12 and "Kęty" in [g for _, g in links]
    chosen = _html(client, links[0][0].replace("&amp;", "&"))
    assert "Którą miejscowość masz na myśli?" not in chosen and 'id="competent-heading"' in chosen
    assert "q=urz" in links[0][0]                         # the words typed travel with the choice


def test_every_crisis_need_the_pages_offer_shows_helplines(client):
    from catalog.types import NEEDS
    from index import needs

    offered = sorted(needs.CRISIS_NEEDS & set(NEEDS))
    assert "przemoc" in offered
    for need in offered:
        for path in (f"/?potrzeba={need}", f"/instytucje?potrzeba={need}"):
            assert 'class="helplines"' in _html(client, path), path


def test_a_failing_thesaurus_shows_the_helplines_rather_than_none(client, monkeypatch, caplog):
    from index import needs

    def broken(_text):
        raise RuntimeError("thesaurus unavailable")

    monkeypatch.setattr(needs, "detect", broken)
    with caplog.at_level(logging.ERROR, logger="webapp.helplines"):
        html = _html(client, "/?q=zasiłek")
    assert 'class="helplines"' in html
    assert any("crisis detection failed" in r.getMessage() for r in caplog.records)
