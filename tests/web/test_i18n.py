"""The interface in Polish (/…), Ukrainian (/uk/…) and English (/en/…): the language lives in the URL
(webapp/i18n.py LocalePrefix), every link, form, redirect and error page stays in it, the API does not."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

LOCALES = [("", "pl"), ("/uk", "uk"), ("/en", "en")]
PAGES = ("/", "/instytucje?woj=20", "/instytucja/{ops}", "/instytucja/{kis}", "/powiat/2002", "/powiaty", "/zrodla",
         "/mapa")
# A word of each language that the page's header must show (the "Search" link).
SEARCH = {"pl": "Szukaj", "uk": "Пошук", "en": "Search"}


class Links(HTMLParser):
    """Every tag's attributes, to look at links, forms and the head's alternates."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in wanted.items())]


def parsed(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


@pytest.mark.parametrize("prefix, lang", LOCALES)
def test_every_page_carries_its_language(client, ids, prefix, lang):
    for path in PAGES:
        response = client.get(prefix + path.format(**ids))
        assert response.status_code == 200, (prefix + path, response.status_code)
        html = response.get_data(as_text=True)
        assert f'<html lang="{lang}">' in html
        assert f">{SEARCH[lang]}</a>" in html
        assert response.headers["Content-Language"] == lang


def test_ukrainian_pages_are_in_ukrainian(client, ids):
    html = client.get(f"/uk/instytucja/{ids['ops']}").get_data(as_text=True)
    for text in ("Центр соціальної допомоги", "Контакти й адреса", "Як отримати допомогу", "Повідомити про помилку"):
        assert text in html
    assert "Kontakt i adres" not in html and "Jak się dostać" not in html
    # Institution data stays as published.
    assert "Gminny Ośrodek Pomocy Społecznej w Zabłudowie" in html


@pytest.mark.parametrize("prefix, lang", LOCALES)
def test_switch_and_hreflang_alternates_name_the_same_page(client, prefix, lang):
    html = client.get(f"{prefix}/instytucje?woj=20&typ=cis").get_data(as_text=True)
    page = parsed(html)
    alternates = {a["hreflang"]: a["href"] for a in page.find("link", rel="alternate")}
    assert alternates == {
        "pl": "/instytucje?woj=20&typ=cis",
        "uk": "/uk/instytucje?woj=20&typ=cis",
        "en": "/en/instytucje?woj=20&typ=cis",
        "x-default": "/instytucje?woj=20&typ=cis",
    }
    switch = {a["hreflang"]: a for t, a in page.tags if t == "a" and a.get("hreflang")}
    assert {k: (v["href"], v["lang"]) for k, v in switch.items()} == {
        "pl": ("/instytucje?woj=20&typ=cis", "pl"),
        "uk": ("/uk/instytucje?woj=20&typ=cis", "uk"),
        "en": ("/en/instytucje?woj=20&typ=cis", "en"),
    }
    assert [k for k, v in switch.items() if v.get("aria-current")] == [lang]
    assert re.search(r'>Українська</a>', html) and re.search(r'>English</a>', html) and re.search(r'>Polski</a>', html)


@pytest.mark.parametrize("prefix", ["/uk", "/en"])
def test_links_forms_and_assets_stay_in_the_language(client, ids, prefix):
    html = client.get(f"{prefix}/instytucja/{ids['ops']}").get_data(as_text=True)
    page = parsed(html)
    internal = [a["href"] for a in page.find("a") if a.get("href", "").startswith("/")
                and not a.get("hreflang")]
    assert internal and all(h.startswith(prefix + "/") for h in internal), internal
    actions = [f["action"] for f in page.find("form")]
    assert actions and all(a.startswith(prefix + "/") for a in actions), actions
    styles = [link["href"] for link in page.find("link", rel="stylesheet")]
    assert styles and all(s.startswith(prefix + "/") for s in styles)
    for href in styles:   # the assets are served under the prefix too
        response = client.get(href)
        assert response.status_code == 200, href
        response.close()


def test_bare_prefix_is_the_home_page(client):
    assert client.get("/uk").status_code == 200
    assert '<html lang="en">' in client.get("/en/").get_data(as_text=True)
    # Only a whole path segment is a language: /ukraina is an unknown Polish page.
    response = client.get("/ukraina")
    assert response.status_code == 404 and '<html lang="pl">' in response.get_data(as_text=True)


@pytest.mark.parametrize("prefix, lang, title", [("", "pl", "Nie znaleziono strony"),
                                                 ("/uk", "uk", "Сторінку не знайдено"),
                                                 ("/en", "en", "Page not found")])
def test_error_pages_speak_the_language(client, prefix, lang, title):
    response = client.get(prefix + "/instytucja/999999")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html and f"<h1>{title}</h1>" in html


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("prefix, thanks", [("/uk", "Дякуємо за повідомлення"), ("/en", "Thank you for your report")])
def test_report_form_posts_and_redirects_within_the_language(client, ids, prefix, thanks):
    page = client.get(f"{prefix}/instytucja/{ids['wtz']}").get_data(as_text=True)
    action = parsed(page).find("form", method="post")[0]["action"]
    assert action.startswith(f"{prefix}/instytucja/{ids['wtz']}/zglos")
    response = client.post(action.split("#")[0], data={"csrf_token": _csrf(page),
                                                       "message": "Nowy adres od stycznia, ul. Lipowa 3."})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{prefix}/instytucja/{ids['wtz']}/zglos/dziekujemy"
    assert thanks in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("prefix, label, error", [
    ("/uk", "Що не так?", "Опишіть, будь ласка, що не так."),
    ("/en", "What is wrong?", "Please describe what is wrong."),
])
def test_form_labels_and_validation_messages_are_translated(client, ids, prefix, label, error):
    page = client.get(f"{prefix}/instytucja/{ids['wtz']}").get_data(as_text=True)
    assert label in page
    response = client.post(f"{prefix}/instytucja/{ids['wtz']}/zglos", data={"csrf_token": _csrf(page), "message": ""})
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)


def test_api_is_language_neutral(client, ids):
    polish = client.get(f"/api/institutions/{ids['ops']}")
    ukrainian = client.get(f"/uk/api/institutions/{ids['ops']}")
    assert polish.status_code == ukrainian.status_code == 200
    assert polish.get_json() == ukrainian.get_json()
    assert polish.headers.get("ETag") == ukrainian.headers.get("ETag")
    missing = client.get("/en/api/institutions/999999")
    assert missing.status_code == 404 and missing.get_json()["error"]["message"] == "Nie ma instytucji o identyfikatorze 999999."


def test_exports_stay_polish_under_every_language(client):
    polish = client.get("/powiat/2002.csv").get_data(as_text=True)
    assert client.get("/uk/powiat/2002.csv").get_data(as_text=True) == polish
    assert "Rodzaj,Nazwa" in polish


def test_pages_differ_per_language_for_caches(client):
    """The language is in the URL, so a cache keys pages apart by URL; no validator is shared."""
    polish, english = client.get("/zrodla"), client.get("/en/zrodla")
    assert polish.get_data() != english.get_data()
    assert polish.headers.get("ETag") is None or polish.headers.get("ETag") != english.headers.get("ETag")


def test_csp_holds_under_the_prefix(client):
    response = client.get("/uk/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_prefix_behind_a_trusted_proxy(settings, ids):
    from webapp import create_app

    app = create_app({"TESTING": True, "TRUSTED_PROXIES": 1})
    client = app.test_client()
    response = client.get("/uk/zrodla", headers={"X-Forwarded-Host": "wsparcie.example.org",
                                                 "X-Forwarded-Proto": "https"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="uk">' in html
    assert '<link rel="alternate" hreflang="en" href="/en/zrodla">' in html
    assert 'href="/uk/static/css/site.css"' in html


def test_lower_layer_vocabulary_is_translated_by_msgid(app):
    from index import api as index_api
    from webapp.i18n import notes, vocab

    # The environ LocalePrefix leaves for a request under /en/.
    with app.test_request_context("/", environ_base={"wsparcie.locale": "en"}):
        joined = f"{index_api.NOTE_TRUNCATED} {index_api.NOTE_FUZZY}"
        assert notes(joined) == ("The query was too long – only its beginning was used. "
                                 "Showing results for similar words.")
        assert vocab("Centrum integracji społecznej") == "Social integration centre"
        assert vocab("tekst spoza katalogu") == "tekst spoza katalogu"   # unknown text stays as it is


@pytest.mark.parametrize("prefix, heading, line", [
    ("/uk", "Потрібна допомога зараз? Зателефонуйте", "Кризовий телефон довіри для дорослих"),
    ("/en", "Need help now? Call", "Crisis helpline for adults"),
])
def test_crisis_helplines_in_the_language(client, prefix, heading, line):
    html = client.get(f"{prefix}/?potrzeba=przemoc").get_data(as_text=True)
    assert heading in html and line in html
    assert 'href="tel:116123"' in html   # the numbers are the numbers
