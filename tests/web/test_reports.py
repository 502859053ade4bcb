"""The "Zgłoś błąd" loop: a report from the form becomes an operator queue (`wsparcie reports …`), the
institution page says a correction is being verified, /zrodla counts open reports, and a resolved report
is a source of its own in the provenance. The reporter's contact is never public."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from click.testing import CliRunner
from sqlmodel import select

from catalog import db
from catalog.models import FieldProvenance, Institution
from orchestration.cli import cli

MESSAGE = "Nowy adres e-mail ośrodka: kontakt@gops.zabludow.example — stary nie działa."
CONTACT = "jan.kowalski@example.org"
PENDING = "Zgłoszono poprawkę — w weryfikacji."


def _report(client, inst_id: int, message: str = MESSAGE, contact: str = CONTACT) -> None:
    html = client.get(f"/instytucja/{inst_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(f"/instytucja/{inst_id}/zglos",
                           data={"csrf_token": token, "message": message, "contact": contact})
    assert response.status_code == 303


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _open_count(client) -> int:
    html = client.get("/zrodla").get_data(as_text=True)
    return int(re.search(r'class="open-reports">[^<]*<strong>(\d+)</strong>', html).group(1))


def test_a_report_is_queued_shown_as_pending_and_resolved_into_the_provenance(client, ids, settings):
    assert _open_count(client) == 0
    assert PENDING not in client.get(f"/instytucja/{ids['ops']}").get_data(as_text=True)
    _report(client, ids["ops"])
    assert _open_count(client) == 1
    page = client.get(f"/instytucja/{ids['ops']}").get_data(as_text=True)
    assert PENDING in page and CONTACT not in page and MESSAGE not in page

    code, out = _cli("reports", "list", "--json")
    assert code == 0
    [queued] = json.loads(out)
    assert queued["message"] == MESSAGE and queued["contact"] == CONTACT and queued["status"] == "new"
    code, out = _cli("reports", "resolve", str(queued["id"]), "--set", "email=kontakt@gops.zabludow.example",
                     "--note", "sprawdzono w BIP", "--json")
    assert code == 0, out
    assert json.loads(out)["changed"] == ["email"]

    with db.session_scope(settings.database_url) as session:
        inst = session.get(Institution, ids["ops"])
        assert inst.email == "kontakt@gops.zabludow.example"
        row = session.exec(select(FieldProvenance).where(FieldProvenance.institution_id == ids["ops"],
                                                         FieldProvenance.field == "email",
                                                         FieldProvenance.current())).one()
        assert (row.source, row.source_key) == ("user-report", str(queued["id"]))
        assert row.source_updated_at == datetime.now(UTC).date()
    page = client.get(f"/instytucja/{ids['ops']}").get_data(as_text=True)
    assert PENDING not in page and "zgłoszenie użytkownika, zweryfikowane" in page
    assert CONTACT not in page
    assert _open_count(client) == 0
    code, out = _cli("reports", "show", str(queued["id"]), "--json")
    assert json.loads(out)["decisions"][0]["note"] == "sprawdzono w BIP"
    # A decided report cannot be decided again.
    code, out = _cli("reports", "reject", str(queued["id"]), "--note", "x")
    assert code != 0 and "already" in out


def test_a_rejected_report_changes_nothing_and_leaves_the_queue(client, ids, settings):
    _report(client, ids["pcpr"], "To nie jest prawda, ale piszę.", "")
    code, out = _cli("reports", "list", "--json")
    [queued] = json.loads(out)
    assert queued["contact"] is None                     # contact is optional
    code, out = _cli("reports", "reject", str(queued["id"]), "--note", "brak podstaw", "--json")
    assert code == 0 and json.loads(out)["status"] == "rejected"
    assert json.loads(_cli("reports", "list", "--json")[1]) == []
    assert len(json.loads(_cli("reports", "list", "--all", "--json")[1])) == 1
    with db.session_scope(settings.database_url) as session:
        assert session.exec(select(FieldProvenance).where(FieldProvenance.source == "user-report")).first() is None


def test_resolve_refuses_fields_that_are_not_corrections(client, ids):
    _report(client, ids["ops"])
    [queued] = json.loads(_cli("reports", "list", "--json")[1])
    code, out = _cli("reports", "resolve", str(queued["id"]), "--set", "is_demo=1")
    assert code != 0 and "not a correctable field" in out
    assert json.loads(_cli("reports", "list", "--json")[1])[0]["status"] == "new"


def test_reporters_contact_is_in_no_public_answer(client, ids):
    _report(client, ids["ops"])
    for url in (f"/instytucja/{ids['ops']}", "/zrodla", f"/api/institutions/{ids['ops']}", "/api/export.jsonl",
                "/api/export/hsds.json", "/api/export.csv"):
        assert CONTACT not in client.get(url).get_data(as_text=True), url
