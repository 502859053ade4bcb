"""What pages say about the "Zgłoś błąd" queue: the count of open reports (/zrodla) and, on an
institution's page, that a correction is being verified. Never who reported or what they wrote."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from catalog import reports
from webapp.db import session

log = logging.getLogger(__name__)


def open_reports_count() -> int | None:
    try:
        return reports.open_count(session())
    except Exception:   # a page must render even when the count cannot be read
        log.exception("open report count failed")
        return None


def report_pending(institution_id: int) -> bool:
    try:
        return reports.has_open(session(), institution_id)
    except Exception:
        log.exception("open report check failed")
        return False


def _context() -> dict[str, Any]:
    return {"open_reports_count": open_reports_count, "report_pending": report_pending}


def init_app(app: Flask) -> None:
    app.context_processor(_context)
