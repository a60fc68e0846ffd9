"""Proof images of delivery reports: which uploads are images we keep, decided by Pillow from
their content (never from the file name or the browser's Content-Type).

PNG, JPEG or WebP only (no SVG: it can carry script; no GIF/TIFF: nothing a screenshot
needs), at most ``EXCHANGE_PROOF_MAX_BYTES``, and not a decompression bomb. Pure: no database,
no storage (``exchange.services.delivery`` stores it).
"""

from __future__ import annotations

import hashlib
import warnings
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

# Pillow format name → (content type, extension)
PROOF_TYPES = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}
MAX_PIXELS = 50_000_000  # a phone screenshot is ~3 MP; anything far larger is not a proof


def proof_format(stream: BinaryIO) -> str | None:
    """The Pillow format name (``PNG``, ``JPEG``, ``WEBP``) if ``stream`` is a well-formed image
    of an accepted type, else None. Rewinds the stream."""
    stream.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                kind = image.format
                width, height = image.size
                image.verify()  # structure and checksums, without decoding every pixel
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, ValueError):
        return None
    except Exception:  # a malformed file can make any decoder raise; it is still not an image
        return None
    finally:
        stream.seek(0)
    if kind not in PROOF_TYPES or width * height > MAX_PIXELS:
        return None
    return kind


def content_type(stream: BinaryIO) -> str | None:
    kind = proof_format(stream)
    return PROOF_TYPES[kind][0] if kind else None


def proof_version(name: str) -> str:
    """A short token of a stored proof's name for its URL (``?v=…``): a new upload gets a new
    name, so a cached old proof is never shown."""
    return hashlib.sha256(str(name or "").encode()).hexdigest()[:10]
