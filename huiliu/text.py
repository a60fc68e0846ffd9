"""Text from outside: what a name, a line of text or a free-text field may contain, and how a
value is quoted back in a message.

Every text a person or a partner system sends (web forms and query strings, GraphQL
arguments, JSON bodies, import lines) passes one of these checks before it is stored, searched
for or echoed:

- ``clean_name`` — names, labels, tags: Unicode-normalised, one line, no control, zero-width
  or bidi-control characters, and not blank (invisible characters do not count as content).
  NFKC (full-width Ｌｕｃｋｉｎ becomes Luckin, ① becomes 1) only where that is safe — English
  names, tags, key names (``compatibility=True``); Chinese names, legal entities and labels
  get NFC, because NFKC would also rewrite full-width punctuation, which is correct Chinese
  typography: 瑞幸咖啡（中国）有限公司 is the registered name, not 瑞幸咖啡(中国)有限公司.
- ``clean_line`` — one-line input that is not a name (a search, a slug argument, an e-mail):
  no control characters; left as typed otherwise.
- ``clean_free_text`` — descriptions, messages, notes, reasons: line breaks and tabs allowed,
  other control characters not.

All refuse lone surrogates (from ``"\\ud800"`` in JSON), which PostgreSQL — like any UTF-8
encoder — cannot store, and NUL, which PostgreSQL text cannot hold. They raise a field-less
``ValidationError`` (``required`` or ``invalid``); the caller keys it by its field.

``excerpt`` quotes a value in a message: at most ``EXCERPT_LENGTH`` characters, with control
and invisible characters shown as ``\\u200b`` escapes, so a 50 MB value or a lone surrogate
never ends up whole (or unprintable) in an error line.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

EXCERPT_LENGTH = 80

# Format characters that draw nothing but change what text looks like or where it goes.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")  # ZWSP, ZWNJ, ZWJ, word joiner, BOM
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Letters that render as blank space: a name made only of them (and spaces) is empty.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
FREE_TEXT_CONTROLS_ALLOWED = frozenset("\t\n\r")


class TextError(StrEnum):
    REQUIRED = "required"
    INVALID = "invalid"


def _code_point(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def _display(ch: str) -> str:
    """A character as a message may show it: printable ones as they are, others escaped."""
    category = unicodedata.category(ch)
    if category[0] == "C" or category in ("Zl", "Zp") or ch in BLANK_LETTERS:
        return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
    return ch


def excerpt(value: Any, limit: int = EXCERPT_LENGTH) -> str:
    """``value`` as text safe to put in a message: at most ``limit`` characters (then "…"),
    control, invisible and unpaired surrogate characters escaped."""
    text = value if isinstance(value, str) else repr(value) if isinstance(value, (int, float, bool)) else None
    if text is None:
        # Containers: never repr() them whole (a deep one would recurse, a big one is huge).
        text = f"<{type(value).__name__}>"
    shown = "".join(_display(ch) for ch in text[: limit + 1])
    return shown[:limit] + "…" if len(shown) > limit else shown


def _is_forbidden(ch: str, *, name: bool, multiline: bool) -> bool:
    category = unicodedata.category(ch)
    if category == "Cs":  # a lone surrogate: not encodable
        return True
    if category == "Cc":
        return not (multiline and ch in FREE_TEXT_CONTROLS_ALLOWED)
    if category in ("Zl", "Zp"):  # line / paragraph separators
        return not multiline
    if name and (category == "Cf" or ch in ZERO_WIDTH or ch in BIDI_CONTROLS):
        return True
    return False


def forbidden_character(value: str, *, name: bool = False, multiline: bool = False) -> str | None:
    """The first character ``value`` may not contain, or None.

    Always refused: control characters (tab, CR and LF only in ``multiline`` text) and
    lone surrogates. Names also refuse every format character (zero-width, bidi controls,
    soft hyphen …)."""
    for ch in value:
        if _is_forbidden(ch, name=name, multiline=multiline):
            return ch
    return None


def _refuse(label: str, ch: str) -> ValidationError:
    category = unicodedata.category(ch)
    if ch in BIDI_CONTROLS:
        kind = _("a text-direction control character")
    elif category == "Cf":
        kind = _("an invisible character")
    elif category == "Cs":
        kind = _("an invalid character")
    else:
        kind = _("a control character")
    return ValidationError(
        _("%(field)s contains %(kind)s (%(code)s), which is not allowed."),
        code=TextError.INVALID,
        params={"field": label, "kind": kind, "code": _code_point(ch)},
    )


def _check_type(value: Any, label: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(_("%(name)s must be text."), code=TextError.INVALID, params={"name": label})
    return value


def _check_length(value: str, label: str, max_length: int | None) -> str:
    if max_length is not None and len(value) > max_length:
        raise ValidationError(
            _("%(name)s is longer than %(n)d characters."),
            code=TextError.INVALID,
            params={"name": label, "n": max_length},
        )
    return value


def is_blank(value: str) -> bool:
    """True if ``value`` shows nothing: only spaces, blank letters and invisible characters."""
    return all(ch.isspace() or ch in BLANK_LETTERS or unicodedata.category(ch) == "Cf" for ch in value)


def normalise_name(value: str, *, compatibility: bool = False) -> str:
    """NFC (NFKC with ``compatibility``), then stripped: what a name is stored and compared as
    (no checks)."""
    return unicodedata.normalize("NFKC" if compatibility else "NFC", value).strip()


def clean_name(
    value: Any, label: str, *, required: bool = False, max_length: int | None = None, compatibility: bool = False
) -> str:
    """A name, label or tag: normalised (see ``normalise_name``) and stripped; one line of
    visible text."""
    text = normalise_name(_check_type(value, label), compatibility=compatibility)
    if required and is_blank(text):
        raise ValidationError(_("%(name)s is required."), code=TextError.REQUIRED, params={"name": label})
    bad = forbidden_character(text, name=True)
    if bad is not None:
        raise _refuse(label, bad)
    return _check_length(text, label, max_length)


def clean_line(value: Any, label: str, *, required: bool = False, max_length: int | None = None) -> str:
    """One line of text that is not a name (a search, a slug, an e-mail): stripped, no control
    characters, otherwise as typed."""
    text = _check_type(value, label).strip()
    if required and not text:
        raise ValidationError(_("%(name)s is required."), code=TextError.REQUIRED, params={"name": label})
    bad = forbidden_character(text)
    if bad is not None:
        raise _refuse(label, bad)
    return _check_length(text, label, max_length)


def clean_free_text(value: Any, label: str, *, required: bool = False, max_length: int | None = None) -> str:
    """Free text (a description, a message, a note): stripped; line breaks and tabs allowed,
    other control characters not."""
    text = _check_type(value, label).strip()
    if required and is_blank(text):
        raise ValidationError(_("%(name)s is required."), code=TextError.REQUIRED, params={"name": label})
    bad = forbidden_character(text, multiline=True)
    if bad is not None:
        raise _refuse(label, bad)
    return _check_length(text, label, max_length)


_ASCII_DIGITS = frozenset("0123456789")


def ascii_int(value: Any, max_digits: int = 18) -> int | None:
    """``value`` as a non-negative int if it is 1 to ``max_digits`` ASCII digits, else None.

    ``str.isdigit`` also accepts "²" (then ``int()`` raises) and ``int()`` also reads "٣" or
    "３" as 3: neither may reach an ID or a count through a form or a query string."""
    if not isinstance(value, str) or not 0 < len(value) <= max_digits or not set(value) <= _ASCII_DIGITS:
        return None
    return int(value)


def one_line(value: str) -> str:
    """``value`` with every run of whitespace and control characters made one space: for
    stored text going into a single-line place (an e-mail subject, a log line)."""
    return " ".join("".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in value).split())
