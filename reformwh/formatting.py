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
