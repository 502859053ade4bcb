"""URL pieces shared by every blueprint."""
from __future__ import annotations

# Ids beyond a signed 64-bit integer cannot exist (SQLite INTEGER, PostgreSQL BIGINT) and crash the
# driver: the URL converter turns them into a plain 404.
MAX_ID = 2**63 - 1
ID_CONVERTER = f"int(max={MAX_ID})"
