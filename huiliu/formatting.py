"""Showing domain values as text, the same way on every surface (API, pages, e-mails).

Money is stored and passed around as integer minor units (``amount_cents``) plus an ISO 4217
currency code, never as floats; ``money`` is the one place it becomes text.
"""

from __future__ import annotations

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
