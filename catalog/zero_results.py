"""Searches that found nothing: recorded per folded query text, place text and need (ZeroResultQuery), and
listed for the operator (`wsparcie status --zero-results`).

Text only: the query, the place as typed and the need key — never the client's address, user agent or
anything else of the request. Texts are cleaned (controls, spacing) and capped at ZERO_RESULT_TEXT_MAX; the
same search typed with or without Polish letters, in any case or spacing, counts as one row."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, func, select

from catalog.models import ZERO_RESULT_TEXT_MAX, ZeroResultQuery, utcnow
from catalog.text import fold

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NEED_MAX = 64
DEFAULT_LIMIT = 50


def _text(value: str | None) -> str:
    """Typed text as kept: no control characters, single spaces, at most ZERO_RESULT_TEXT_MAX characters."""
    return " ".join(_CONTROL.sub(" ", value or "").split())[:ZERO_RESULT_TEXT_MAX]


def _key(value: str) -> str:
    return fold(value)[:ZERO_RESULT_TEXT_MAX]


def record(session: Session, query: str | None, place: str | None = None, need: str | None = None,
           now: datetime | None = None) -> bool:
    """Count one search without results. Returns False (nothing written) when there is nothing to count:
    no query text and no need. One atomic upsert, so concurrent workers never lose or duplicate a count."""
    text, place_text, need_key = _text(query), _text(place), _text(need)[:NEED_MAX]
    if not _key(text) and not need_key:
        return False
    now = now or utcnow()
    values = {"query_folded": _key(text), "query_text": text, "place_folded": _key(place_text),
              "place_text": place_text, "need": need_key, "count": 1, "first_seen": now, "last_seen": now}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = ZeroResultQuery.__table__
    stmt = insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["query_folded", "place_folded", "need"],
        set_={"count": table.c.count + 1, "last_seen": now, "query_text": text, "place_text": place_text},
    )
    session.execute(stmt)
    return True


def listing(session: Session, limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
    """The most frequent zero-result searches (then the most recent), as plain dicts."""
    rows = session.exec(
        select(ZeroResultQuery)
        .order_by(ZeroResultQuery.count.desc(), ZeroResultQuery.last_seen.desc(), ZeroResultQuery.id)
        .limit(max(0, limit))
    ).all()
    return [{"query": r.query_text, "query_folded": r.query_folded, "place": r.place_text, "need": r.need,
             "count": r.count, "first_seen": r.first_seen.isoformat(), "last_seen": r.last_seen.isoformat()}
            for r in rows]


def total(session: Session) -> dict[str, int]:
    """How many distinct zero-result searches are recorded, and how many times they were made."""
    distinct, searches = session.exec(
        select(func.count(ZeroResultQuery.id), func.coalesce(func.sum(ZeroResultQuery.count), 0))).one()
    return {"distinct": int(distinct), "searches": int(searches)}


def format_table(rows: list[dict[str, Any]]) -> str:
    """Rows as an aligned plain-text table for the terminal."""
    if not rows:
        return "no zero-result searches recorded"
    head = f"{'count':>6}  {'last seen (UTC)':<19}  {'need':<18}  {'place':<24}  query"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['count']:>6}  {r['last_seen'][:19]:<19}  {r['need'] or '—':<18}  "
                     f"{(r['place'] or '—')[:24]:<24}  {r['query'] or '—'}")
    return "\n".join(lines)
