"""Headless Chromium (Debian's, via Playwright) shares a fixed location on the home page: the result names
the gmina and the town, never coordinates; without JavaScript the location button is never shown."""
from __future__ import annotations

import re

import pytest

from catalog import db
from catalog.settings import load
from tests.browser import require_chromium, served

pytestmark = pytest.mark.browser

MOCZARY = {"latitude": 49.3875, "longitude": 22.676}

require_chromium()
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site under waitress on a free loopback port over an empty migrated SQLite catalog."""
    from webapp import create_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WSPARCIE_DATA_DIR", str(tmp_path_factory.mktemp("geo-live")))
        for name in ("DATABASE_URL", "INDEX_DIR", "SECRET_KEY"):
            mp.delenv(name, raising=False)
        settings = load()
    db.upgrade(settings.database_url)
    with served(create_app({"SETTINGS": settings})) as url:
        yield url


def test_shared_location_names_gmina_and_town(site, browser):
    context = browser.new_context(locale="pl-PL", geolocation=MOCZARY, permissions=["geolocation"])
    context.set_default_timeout(15000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(site + "/")
        button = page.get_by_role("button", name="Użyj mojej lokalizacji")
        assert button.is_visible()
        button.click()
        page.wait_for_url(re.compile(r".*[?&]lat="))
        heading = page.locator("#competent-heading").inner_text()
        assert heading == "Urzędy i ośrodki właściwe dla: Moczary, gmina Ustrzyki Dolne"
        assert "powiat bieszczadzki" in page.locator(".place-area").inner_text()
        assert not re.search(r"49[.,]387|22[.,]67", page.locator("main").inner_text())
    finally:
        context.close()
    assert errors == []


def test_location_button_not_shown_without_javascript(site, browser):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site + "/")
        assert page.locator("#geo-button").count() == 1
        assert not page.locator("#geo-button").is_visible()
        # The choices work without JavaScript: groups open with <details>, choices are plain links.
        page.goto(site + "/?gdzie=Dąbrowa")
        assert page.locator("#choices-heading").inner_text() == "Którą miejscowość masz na myśli?"
        group = page.locator("details.choice-group").nth(1)
        group.locator("summary").click()
        group.locator("a").first.click()
        assert page.locator("#competent-heading").inner_text().startswith("Urzędy i ośrodki właściwe dla: Dąbrowa")
    finally:
        context.close()
