"""Headless Chromium (Debian's, via Playwright) shares a fixed location on the home page: the result names
the gmina and the town, never coordinates; without JavaScript the location button is never shown."""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from catalog import db
from catalog.settings import load

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
MOCZARY = {"latitude": 49.3875, "longitude": 22.676}

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("Debian chromium is not installed (apt-get install chromium)")
    pytest.skip("Debian chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site under waitress on a free loopback port over an empty migrated SQLite catalog."""
    from waitress.server import create_server

    from webapp import create_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WSPARCIE_DATA_DIR", str(tmp_path_factory.mktemp("geo-live")))
        for name in ("DATABASE_URL", "INDEX_DIR", "SECRET_KEY"):
            mp.delenv(name, raising=False)
        settings = load()
    db.upgrade(settings.database_url)
    server = create_server(create_app({"SETTINGS": settings}), host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


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
        # The choices work without JavaScript: plain links with the narrowed query.
        page.goto(site + "/?gdzie=Dąbrowa")
        assert page.locator("#choices-heading").inner_text() == "Którą miejscowość masz na myśli?"
        page.locator(".place-choices a").nth(1).click()
        assert page.locator("#competent-heading").inner_text().startswith("Urzędy i ośrodki właściwe dla: Dąbrowa")
    finally:
        context.close()
