"""Invalid UTF-8 from RJPS (finding 10): stray windows-1250 bytes are repaired and logged, an undecodable
fragment is a reported unit error; nothing is ever stored as "O\ufffdrodek"."""
from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path

from sqlmodel import select
from werkzeug import Response

from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.models import Institution, SourceRecord
from orchestration import pipeline

_spec = importlib.util.spec_from_file_location("pipeline_loopback", Path(__file__).with_name("loopback.py"))
lb = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("pipeline_loopback", lb)
_spec.loader.exec_module(lb)


class MixedRjps(lb.LoopbackRjps):
    """Unit 1 has one windows-1250 byte in otherwise UTF-8 HTML; unit 2 has bytes no charset defines."""

    def _fragment(self, request):
        uid = int(request.args["jednostkiIds"])
        body = lb.synthetic_fragment(uid)
        if uid == 40_001:
            body = body.replace("Ośrodek".encode(), "Ośrodek".encode("cp1250"))
        elif uid == 40_002:
            body = body.replace("Ośrodek".encode(), b"O\x81\x98\x90rodek")
        return Response(body, content_type="text/html;charset=UTF-8")


def test_mixed_charset_fragment_is_repaired_and_undecodable_one_reported(httpserver, data_dir, monkeypatch,
                                                                           caplog):
    rjps = MixedRjps(httpserver, [40_001, 40_002, 40_003])
    monkeypatch.setenv("RJPS_BASE_URL", rjps.base_url)
    monkeypatch.setenv("RJPS_EXPECTED_MIN", "1")
    settings = settings_mod.load()
    with caplog.at_level(logging.WARNING, logger="scrapers.http"):
        [summary] = pipeline.scrape(settings, ["rjps"], post_process=False)
    assert summary.status == "partial" and summary.n_errors == 1
    [error] = summary.errors
    assert error["where"] == "RJPS unit 40002" and "undecodable" in error["message"]
    assert "jednostkiIds=40001" in caplog.text and "windows-1250" in caplog.text
    with session_scope(settings.database_url) as session:
        names = {rec.source_key: session.get(Institution, rec.institution_id).name
                 for rec in session.exec(select(SourceRecord)).all()}
    assert names == {"40001": "Gminny Ośrodek Pomocy Społecznej numer 40001",
                     "40003": "Gminny Ośrodek Pomocy Społecznej numer 40003"}
