"""`wsparcie resolve "ADDRESS"`: the gmina, powiat and województwo of a place and who is responsible."""
from __future__ import annotations

import json

import click

from catalog import settings as settings_mod
from catalog.db import session_scope, upgrade
from geo.resolve import NEARBY_TYPES, Resolution, resolve


def _point(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    try:
        lat, lon = (float(x) for x in text.replace(";", ",").split(","))
    except ValueError as exc:
        raise click.BadParameter("podaj punkt jako „szerokość,długość”, np. 53.0182,23.3290") from exc
    return lat, lon


def _print(res: Resolution) -> None:
    if res.place is None:       # ambiguous name: list the choices with the query that selects each
        click.echo("Którą miejscowość masz na myśli?")
        for alt in res.alternatives:
            d = alt.to_dict()
            click.echo(f"  - {d['label']}: gmina {d['gmina']}, {d['powiat']}, woj. {d['wojewodztwo']} "
                       f"→ „{d['query']}”")
        return
    place = res.place.to_dict()
    click.echo(f"Miejsce: {place['label']} ({place['precision_label']})")
    click.echo(f"  gmina: {place['gmina']} ({place['gmina_kind']}), TERYT {place['gmina_id6']}")
    click.echo(f"  powiat: {place['powiat']} ({place['powiat_code']})")
    click.echo(f"  województwo: {place['wojewodztwo']} ({place['woj_code']})")
    if res.alternatives:
        click.echo("Inne miejsca o tej nazwie:")
        for alt in res.alternatives:
            d = alt.to_dict()
            click.echo(f"  - {d['label']}: gmina {d['gmina']}, {d['powiat']}, woj. {d['wojewodztwo']}")
    click.echo("Właściwe jednostki:" if res.competent else "Właściwe jednostki: brak w katalogu")
    for c in res.competent:
        inst = c.institution
        click.echo(f"  [{c.role}] {c.role_label}: {inst.name} (#{inst.id})")
    if res.nearby:
        click.echo("W pobliżu:")
    for n in res.nearby:
        click.echo(f"  {n.distance_km:6.1f} km  {n.institution.type.upper():<4} {n.institution.name} (#{n.institution.id})")


@click.command("resolve")
@click.argument("address", required=False)
@click.option("--point", "point_text", help="A point LAT,LON instead of an address.")
@click.option("--types", default=",".join(NEARBY_TYPES), show_default=True,
              help="Types listed as nearby (comma-separated).")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(0, 100))
@click.option("--json", "as_json", is_flag=True, help="Print the resolution as JSON (the /api/resolve shape).")
def resolve_cmd(address: str | None, point_text: str | None, types: str, limit: int, as_json: bool) -> None:
    """The gmina, powiat and województwo of ADDRESS (address, postal code or locality) and the offices
    competent for it (OPS/CUS, PCPR, PUP, OWES), then the nearest CIS/KIS/ZAZ/WTZ/PS."""
    if not address and not point_text:
        raise click.UsageError("Podaj adres, kod pocztowy, miejscowość albo --point.")
    settings = settings_mod.load()
    nearby = tuple(t.strip() for t in types.split(",") if t.strip())
    upgrade(settings.database_url)      # a fresh install answers "nothing in the catalog" instead of failing
    with session_scope(settings.database_url) as session:
        res = resolve(session, settings, text=address, point=_point(point_text), nearby_types=nearby,
                      nearby_limit=limit)
        if res is None:
            raise click.ClickException("Nie rozpoznano miejsca. Podaj adres, kod pocztowy (np. 16-060) "
                                       "albo nazwę miejscowości.")
        if as_json:
            click.echo(json.dumps(res.to_dict(), ensure_ascii=False, indent=2))
        else:
            _print(res)


commands = [resolve_cmd]
