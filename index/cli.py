"""`wsparcie search` and `wsparcie reindex`."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from catalog import db
from catalog.settings import load
from catalog.types import info
from index import api, params


@contextmanager
def _one_line_errors(action: str) -> Iterator[None]:
    """An operator gets one clear line and exit code 1, never a traceback (a bad SEARCH_BACKEND, an
    unwritable or damaged index directory, an unreachable database)."""
    try:
        yield
    except click.ClickException:
        raise
    except OperationalError as exc:   # no catalog yet, or a locked/damaged/unreachable database
        raise click.ClickException(f"{action}: nie można odczytać katalogu: {_flat(exc.orig)}") from exc
    except (OSError, ValueError, RuntimeError, SQLAlchemyError) as exc:
        raise click.ClickException(f"{action}: {_flat(exc)}") from exc


def _flat(exc: BaseException | None) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if isinstance(exc, OSError) else text


def _point(value: str | None) -> tuple[float, float] | None:
    if not value:
        return None
    try:
        lat, lon = (float(part) for part in value.replace(" ", "").split(","))
    except ValueError as exc:
        raise click.BadParameter("podaj punkt jako SZEROKOŚĆ,DŁUGOŚĆ, np. 53.01,23.33") from exc
    return lat, lon


@click.command("search")
@click.argument("query", required=False, default="")
@click.option("--type", "types", multiple=True, help="Institution type code (ops, pup, cis…); repeatable.")
@click.option("--target-group", "target_groups", multiple=True, help="Target group; repeatable.")
@click.option("--woj", help="Województwo TERYT code (2 digits).")
@click.option("--powiat", help="Powiat TERYT code (4 digits).")
@click.option("--gmina", help="Gmina TERYT code (6 or 7 digits).")
@click.option("--status", help="active, expired, closed or possibly-closed.")
@click.option("--near", help="LAT,LON: rank nearby institutions higher, show distances.")
@click.option("--radius", "radius_km", type=float, help="Only within this many km of --near.")
@click.option("--sort", type=click.Choice(["relevance", "distance"]), default=None,
              help="Default: relevance (distance when only --near is given).")
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--limit", "per_page", type=int, default=10, show_default=True, help="Results per page.")
@click.option("--facets", "show_facets", is_flag=True, help="Also print facet counts.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, best first.")
def search_cmd(query, types, target_groups, woj, powiat, gmina, status, near, radius_km, sort, page,
               per_page, show_facets, as_json) -> None:
    """Search the index, e.g. `wsparcie search "mops zabludow" --json`."""
    with _one_line_errors("Wyszukiwanie nie powiodło się"):
        _search(query, types, target_groups, woj, powiat, gmina, status, near, radius_km, sort, page,
                per_page, show_facets, as_json)


def _search(query, types, target_groups, woj, powiat, gmina, status, near, radius_km, sort, page,
            per_page, show_facets, as_json) -> None:
    settings = load()
    point = _point(near)
    # The same parser as the pages and the API (index.params), so a filter means the same everywhere.
    # Options not given are left out: the parser refuses an empty value, as the API does.
    given = {"woj": woj, "powiat": powiat, "gmina": gmina, "status": status,
             "near": f"{point[0]},{point[1]}" if point else None,
             "radius_km": None if radius_km is None else str(radius_km)}
    raw = {"q": [query], "type": list(types), "target_group": list(target_groups),
           **{name: [value] for name, value in given.items() if value},
           "sort": [sort or ("distance" if point and not query.strip() else "relevance")],
           "page": [str(page)], "per_page": [str(per_page)]}
    try:
        result = api.search(settings, params.parse(raw))
    except api.QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        for hit in result.hits:
            row = {"id": hit.id, "name": hit.fields.get("name"), "type": hit.fields.get("type"),
                   "score": round(hit.score, 4)}
            if point is not None:
                row["distance_km"] = None if hit.distance_km is None else round(hit.distance_km, 2)
            click.echo(json.dumps(row, ensure_ascii=False))
        if show_facets:
            click.echo(json.dumps({"total": result.total, "facets": result.facets}, ensure_ascii=False))
        return
    _print_human(result, point is not None, show_facets)


def _print_human(result: api.SearchResult, with_distance: bool, show_facets: bool) -> None:
    if result.note:
        click.echo(result.note)
    click.echo(f"Znaleziono: {result.total}")
    for rank, hit in enumerate(result.hits, start=(result.page - 1) * result.per_page + 1):
        fields = hit.fields
        place = ", ".join(p for p in (fields.get("locality"), fields.get("street"), fields.get("building")) if p)
        distance = f" [{hit.distance_km:.1f} km]" if with_distance and hit.distance_km is not None else ""
        label = info(fields.get("type") or "other").label
        click.echo(f"{rank:3}. {fields.get('name')} ({label}) – {place}{distance}  #{hit.id} ({hit.score:.2f})")
    if show_facets:
        for key, counts in result.facets.items():
            shown = ", ".join(f"{value}: {n}" for value, n in sorted(counts.items(), key=lambda kv: -kv[1]))
            click.echo(f"{key}: {shown}")


@click.command("reindex")
@click.option("--ids", help="Comma-separated institution ids: update only these instead of a full rebuild.")
def reindex_cmd(ids: str | None) -> None:
    """Rebuild the search index from the catalog (atomic swap), or update some institutions."""
    started = time.monotonic()
    with _one_line_errors("Nie udało się przebudować indeksu"):
        _reindex(load(), ids, started)


def _reindex(settings, ids: str | None, started: float) -> None:
    with db.session_scope(settings.database_url) as session:
        if ids:
            try:
                wanted = [int(part) for part in ids.split(",") if part.strip()]
            except ValueError as exc:
                raise click.BadParameter("--ids: liczby oddzielone przecinkami") from exc
            count = api.update(settings, session, wanted)
            click.echo(f"Zaktualizowano {count} z {len(wanted)} instytucji ({api.backend_name(settings)}).")
        else:
            count = api.rebuild(settings, session)
            click.echo(f"Zbudowano indeks: {count} instytucji, silnik {api.backend_name(settings)}, "
                       f"{time.monotonic() - started:.1f} s.")


commands = [search_cmd, reindex_cmd]
