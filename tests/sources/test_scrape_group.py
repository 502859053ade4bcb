"""`wsparcie scrape cis-kis` runs the 16 voivodeship sources as 16 runs: the readable ones are merged, a
scanned document and missing pages fail only their own voivodeship, each with its reason."""
from __future__ import annotations

import json

from click.testing import CliRunner
from sqlmodel import Session, select

from catalog.db import get_engine
from catalog.models import ScrapeRun
from scrapers.cis_kis_config import CONFIGS


def test_group_alias_runs_every_voivodeship_in_isolation(env, serve, fixture_bytes):
    from orchestration.cli import cli

    f = lambda name: fixture_bytes("cis_kis", name)
    serve(CONFIGS["20"].landing_paths[0], f("20_rejestr.html"))
    serve(CONFIGS["08"].landing_paths[0], f("08_landing_cis.html"))
    serve(CONFIGS["08"].landing_paths[1], f("08_landing_kis.html"))
    serve("/files/rejestr_cis_skan.pdf", f("08_rejestr_cis_skan.pdf"), content_type="application/pdf")
    result = CliRunner().invoke(cli, ["scrape", "cis-kis", "--json", "--no-progress"])
    assert result.exit_code == 1   # some voivodeships failed
    lines = map(json.loads, result.stdout.strip().splitlines())
    runs = {r["source"]: r for r in lines if r["source"].startswith("cis-kis-")}   # later stages report too
    assert len(runs) == 16
    assert runs["cis-kis-20"]["status"] == "ok" and runs["cis-kis-20"]["new"] == 3
    assert runs["cis-kis-08"]["status"] == "failed"
    assert "lubuskie" in runs["cis-kis-08"]["message"] and "skan" in runs["cis-kis-08"]["message"]
    assert runs["cis-kis-02"]["status"] == "failed" and "dolnośląskie" in runs["cis-kis-02"]["message"]
    with Session(get_engine(env.database_url)) as session:
        stored = {r.source: r for r in session.exec(select(ScrapeRun)).all()}
    assert len(stored) == 16 and stored["cis-kis-20"].status == "ok"
    assert "skan" in stored["cis-kis-08"].message
