"""Every configured source is fetched over https (finding 10: one CIS/KIS register was plain http)."""
from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from catalog import settings as settings_mod
from scrapers.cis_kis_config import CONFIGS


@pytest.fixture
def default_settings(monkeypatch, data_dir):
    # Settings as a production host would have them: no *_BASE_URL overrides from the environment.
    for name in list(os.environ):
        if name.endswith("_BASE_URL"):
            monkeypatch.delenv(name)
    return settings_mod.load()


def test_every_cis_kis_register_url_is_https(default_settings):
    plain = {cfg.source_key: url for cfg in CONFIGS.values() for url in cfg.landing_urls(default_settings)
             if urlsplit(url).scheme != "https"}
    assert plain == {}
    assert len(CONFIGS) == 16


def test_every_default_source_and_service_url_is_https(default_settings):
    urls = {**default_settings.source_base_urls, "nominatim": default_settings.nominatim_url,
            "tiles": default_settings.tile_url}
    assert {key: url for key, url in urls.items() if urlsplit(url).scheme != "https"} == {}
