"""`wsparcie parse-document PATH --kind cis`: parse one register document offline and print its rows."""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from scrapers.documents.institutions import HOME_TYPE_LABELS
from scrapers.documents.registers import KINDS, RegisterRow, parse_register
from scrapers.documents.tables import UnreadableDocument

STATUS_LABELS = {"active": "aktywny", "expired": "status wygasł", "closed": "zamknięty / wykreślony"}


@click.command("parse-document")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", required=True, type=click.Choice(KINDS),
              help="Register or list kind: a catalog type code (ops, dps, sds, …) or mixed/auto for lists where "
                   "each row is typed by its own name.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per row.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Date against which status validity is computed (default: today).")
def parse_document_cmd(path: Path, kind: str, as_json: bool, today) -> None:
    """Parse one register document (HTML, PDF, DOCX, XLSX, XLS, DOC, ODS, CSV) offline and print its rows.

    Exit 2 when the document cannot be read (e.g. a scan without a text layer), 1 when it has no rows."""
    try:
        rows = parse_register(path.read_bytes(), path.name, kind, today.date() if today else date.today())
    except UnreadableDocument as exc:
        click.echo(f"Nie można odczytać dokumentu {path.name}: {exc}", err=True)
        sys.exit(2)
    if not rows:
        click.echo(f"W dokumencie {path.name} nie znaleziono żadnych wierszy rejestru.", err=True)
        sys.exit(1)
    for row in rows:
        if as_json:
            click.echo(json.dumps(row.to_json(), ensure_ascii=False))
        else:
            click.echo(_describe(row))
    if not as_json:
        click.echo(f"Wierszy: {len(rows)}")


def _describe(row: RegisterRow) -> str:
    lines = [f"[{row.row_number}] {row.name or '(bez nazwy)'} — {STATUS_LABELS.get(row.status, row.status)}"]
    details = [
        ("Typ", row.type),
        ("Powiat / gmina", " / ".join(filter(None, (row.powiat_name, row.gmina_name)))),
        ("Typ domu", ", ".join(HOME_TYPE_LABELS.get(t, t) for t in row.home_types)),
        ("Miejsca", _counts(row)),
        ("Filie", "; ".join(b["address_raw"] or b["label"] or "" for b in row.branches)),
        ("ePUAP", row.epuap),
        ("Stan na", _d(row.as_of)),
        ("Podmiot prowadzący", row.operator_name),
        ("Adres", _address(row)),
        ("Decyzja", " z ".join(filter(None, (row.decision_number, _d(row.decision_date))))),
        ("Data wpisu", _d(row.entry_date)),
        ("Ważny do", _d(row.valid_until)),
        ("Identyfikatory", _ids(row.krs, row.nip, row.regon)),
        ("Identyfikatory podmiotu", _ids(row.operator_krs, row.operator_nip, row.operator_regon)),
        ("Telefony", ", ".join(p["e164"] or p["raw"] or "" for p in row.phones)),
        ("E-mail", row.email),
        ("WWW", row.www),
        ("Uwagi", row.notes),
    ]
    lines += [f"    {label}: {value}" for label, value in details if value]
    lines += [f"    ! {warning}" for warning in row.warnings]
    return "\n".join(lines)


def _counts(row: RegisterRow) -> str:
    parts = (("ogółem", row.places_total), ("wolne", row.places_free), ("mieszkańcy", row.residents),
             ("oczekujący", row.waiting))
    return ", ".join(f"{label} {value}" for label, value in parts if value is not None)


def _address(row: RegisterRow) -> str | None:
    if not row.street:   # a rural address ("Makietowo 15") reads best as written
        return row.address_raw
    place = " ".join(filter(None, (row.street, row.building)))
    place = f"{place}/{row.flat}" if row.flat else place
    return ", ".join(filter(None, (place, " ".join(filter(None, (row.postal_code, row.locality))))))


def _ids(krs: str | None, nip: str | None, regon: str | None) -> str:
    return ", ".join(f"{label} {value}" for label, value in (("KRS", krs), ("NIP", nip), ("REGON", regon)) if value)


def _d(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


commands = [parse_document_cmd]
