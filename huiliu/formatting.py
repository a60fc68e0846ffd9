"""Showing domain values as text, the same way on every surface (API, pages, e-mails):
money, and counts (people, stores, reach).

Money is stored and passed around as integer minor units (``amount_cents``) plus an ISO 4217
currency code, never as floats; ``money`` is the one place it becomes text.
"""

from __future__ import annotations

import math

# Symbols shown before the amount; any other currency is shown by its code ("GBP 1,234.56").
CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}
# Digits after the decimal point where a currency's minor unit is not a hundredth.
MINOR_DIGITS = {"JPY": 0, "KRW": 0}


def money(cents: int, currency: str = "CNY") -> str:
    """``123456789`` → ``"¥1,234,567.89"``; negative amounts get a leading minus
    (``"-¥5.00"``). ``cents`` must be an int: money is never a float here."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"money() takes integer cents, got {cents!r}")
    code = currency.upper()
    digits = MINOR_DIGITS.get(code, 2)
    units, minor = divmod(abs(cents), 10**digits)
    number = f"{units:,}" + (f".{minor:0{digits}d}" if digits else "")
    symbol = CURRENCY_SYMBOLS.get(code)
    text = f"{symbol}{number}" if symbol else f"{code} {number}"
    return f"-{text}" if cents < 0 else text


# --- Counts (people, stores, reach) ---------------------------------------------------------------
# The units a large count is shown in, largest first: 万/亿 in Chinese, K/M/B in English. A
# count below the smallest threshold is shown exactly, with thousands separators.
COMPACT_UNITS = {
    "zh": ((100_000_000, "亿"), (10_000, "万")),
    "en": ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")),
}
COMPACT_FROM = 10_000  # 1万 = 10K: both languages abbreviate from the same size


def _whole(value) -> int | None:
    """``value`` as an int (a float is rounded, a string of digits is read), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return round(value) if math.isfinite(value) else None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def number(value) -> str:
    """A whole count with thousands separators in every language: ``2810000`` → ``"2,810,000"``
    ("" for something that is not a number)."""
    n = _whole(value)
    return "" if n is None else f"{n:,}"


def compact(value, language: str) -> str:
    """A count the way readers of ``language`` expect it, to at most one decimal and never
    with a trailing ``.0``: ``2570000`` → ``"257万"`` / ``"2.6M"``, ``58000`` → ``"5.8万"`` /
    ``"58K"``; below 10,000 the exact number (``"9,999"``). The one formatter of audience
    sizes on pages, in reasons and in e-mails."""
    n = _whole(value)
    if n is None:
        return ""
    sign, n = ("-" if n < 0 else ""), abs(n)
    if n < COMPACT_FROM:
        return f"{sign}{n:,}"
    units = COMPACT_UNITS["en" if (language or "").startswith("en") else "zh"]
    for i, (size, suffix) in enumerate(units):
        if n < size:
            continue
        shown = round(n / size, 1)
        # 99,999,999 is "1亿", not "10000万"; 999,950 is "1M", not "1000K".
        if i > 0 and shown * size >= units[i - 1][0]:
            size, suffix = units[i - 1]
            shown = round(n / size, 1)
        text = f"{shown:.1f}".removesuffix(".0")
        return f"{sign}{text}{suffix}"
    return f"{sign}{n:,}"  # pragma: no cover - COMPACT_FROM is above the smallest unit
