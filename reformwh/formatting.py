"""Vietnamese number formatting (domain.md): counts with a dot for thousands, rates as 50,02%."""

from __future__ import annotations

from decimal import Decimal


def count(value) -> str:
    if value is None:
        return "–"
    return f"{int(value):,}".replace(",", ".")


def percent(rate) -> str:
    if rate is None:
        return "–"
    return f"{Decimal(rate) * 100:.2f}".replace(".", ",") + "%"


def number(value) -> str:
    """Points and other decimals: 2,5 (decimal comma), 1.234,75, -0,5; no trailing zeros."""
    if value is None:
        return "–"
    value = Decimal(value).quantize(Decimal("0.01")).normalize()
    sign = "-" if value < 0 else ""
    whole, _, fraction = f"{abs(value):f}".partition(".")
    return sign + count(int(whole)) + (f",{fraction}" if fraction else "")
