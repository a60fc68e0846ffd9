"""Brand logos: which uploads are images we take, read from their first bytes.

A logo is shown on public pages, so its type is decided by its content, never by its file
name or the browser's Content-Type: PNG, JPEG or WebP only (no SVG — it can carry script),
at most ``LOGO_MAX_BYTES``. Pure: no database, no storage (``partners.services.logos``
stores it).
"""

from __future__ import annotations

import hashlib
from typing import BinaryIO

LOGO_MAX_BYTES = 512 * 1024
LOGO_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}  # type → extension


def image_type(stream: BinaryIO) -> str | None:
    """``image/png``, ``image/jpeg`` or ``image/webp`` from the file's signature, else None.
    Reads 16 bytes from the start and rewinds."""
    stream.seek(0)
    head = stream.read(16)
    stream.seek(0)
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and head[12:16] in (b"VP8 ", b"VP8L", b"VP8X"):
        return "image/webp"
    return None


def logo_version(name: str) -> str:
    """A short token of a stored logo's name for its URL (``?v=…``): each upload gets a new
    name, so a cached old logo is never shown."""
    return hashlib.sha256(str(name or "").encode()).hexdigest()[:10]


def logo_upload_to(brand, filename: str) -> str:
    """Where a logo is stored; the service passes a name that already ends with the
    extension of the detected type (the uploaded name is never used)."""
    return f"logos/{filename}"
