"""Small database helpers shared by the domains."""

from __future__ import annotations

import zlib

from django.db import connection


def advisory_xact_lock(name: str) -> None:
    """Serialise every writer that takes the lock ``name`` until the current transaction
    ends (a PostgreSQL transaction-level advisory lock; call inside ``transaction.atomic``).
    SQLite — the embedded default — already lets one writer at a time, so it is a no-op there.
    """
    if connection.vendor != "postgresql":
        return
    key = zlib.crc32(name.encode())  # a stable 32-bit key per name
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
