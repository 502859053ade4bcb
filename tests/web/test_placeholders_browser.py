"""Real Chromium on a 360 × 640 phone screen: the demo banner takes at most a fifth of the first screen and
still opens to its full text; a placeholder's page offers no map; "tylko z wolnymi miejscami" works with
JavaScript off. The site runs under waitress on loopback over a catalog with demo and DPS rows."""
from __future__ import annotations

import pytest

from catalog import db
from catalog.settings import load
from index import api as index_api
from tests.browser import served
from tests.web.test_browser import SHOTS
from tests.web.test_placeholders import add_placeholders
from tests.web.test_places import add_dps

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}
MAX_BANNER_SHARE = 0.2


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from tests.web.conftest import fill
    from webapp import create_app

    data_dir = tmp_path_factory.mktemp("live-placeholders")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WSPARCIE_DATA_DIR", str(data_dir))
        for name in ("DATABASE_URL", "INDEX_DIR", "SECRET_KEY"):
            mp.delenv(name, raising=False)
        settings = load()
    db.upgrade(settings.database_url)
    with db.session_scope(settings.database_url) as session:
        fill(session)
    demo, dps = add_placeholders(settings), add_dps(settings)
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
    with served(create_app({"SETTINGS": settings})) as url:
        yield {"url": url, "demo": demo, "dps": dps}


@pytest.mark.parametrize("path", ["/", "/instytucje", "demo-detail"])
def test_demo_banner_takes_at_most_a_fifth_of_a_phone_screen(live, browser, path):
    url = live["url"] + (f"/instytucja/{live['demo']['ops']}" if path == "demo-detail" else path)
    context = browser.new_context(viewport=PHONE, locale="pl-PL", device_scale_factor=1)
    page = context.new_page()
    page.goto(url)
    banner = page.locator(".demo-banner").first
    box = banner.bounding_box()
    assert box is not None and box["height"] > 0
    assert box["height"] <= MAX_BANNER_SHARE * PHONE["height"], box
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"demo-banner-{path.strip('/') or 'home'}-360.png"))
    # The rest of the explanation is one tap away, and says where the real data comes from.
    page.locator(".demo-banner summary").click()
    assert page.locator(".demo-banner").get_by_role("link", name="źródła danych").is_visible()
    context.close()


def test_placeholder_page_on_a_phone_offers_no_map(live, browser):
    context = browser.new_context(viewport=PHONE, locale="pl-PL")
    page = context.new_page()
    page.goto(f"{live['url']}/instytucja/{live['demo']['ops']}")
    assert page.get_by_text("Nie mamy jeszcze danych tej instytucji").is_visible()
    assert page.locator("iframe, a[href^='geo:'], a[href*='openstreetmap']").count() == 0
    context.close()


def test_free_places_filter_without_javascript(live, browser):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(live["url"] + "/instytucje")
    page.get_by_label("Rodzaj").select_option("dps")
    page.get_by_role("button", name="Pokaż").click()
    assert page.locator(".card-title").count() == 3
    page.get_by_label("tylko z wolnymi miejscami").check()
    page.get_by_role("button", name="Pokaż").click()
    assert "wolne=1" in page.url
    assert page.locator(".card-title").all_inner_texts() == ["Dom Pomocy Społecznej „Pod Lipami” w Choroszczy"]
    assert page.get_by_label("tylko z wolnymi miejscami").is_checked()
    context.close()
