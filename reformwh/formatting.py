"""Vietnamese number and date formatting (domain.md): counts with a dot for thousands (14.000), rates as
percentages with two decimals and a decimal comma (50,02%), dates as in administrative documents."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

MISSING = "–"
MINUS = "\u2212"  # a true minus sign: a hyphen reads as a dash in print


def count(value) -> str:
    if value is None:
        return MISSING
    return f"{int(value):,}".replace(",", ".")


def number(value, places: int = 2) -> str:
    """A decimal number: 1.234,50 (thousands dot, decimal comma)."""
    if value is None:
        return MISSING
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{rounded:,.{places}f}".partition(".")
    return whole.replace(",", ".") + ("," + fraction if fraction else "")


def rounded_rate(rate) -> Decimal | None:
    """A rate as printed (two decimals of a percent), so that differences agree with the printed figures."""
    return None if rate is None else Decimal(rate).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def percent(rate) -> str:
    if rate is None:
        return MISSING
    return f"{rounded_rate(rate) * 100:.2f}".replace(".", ",").replace("-", MINUS) + "%"


def whole_percent(rate) -> str:
    """A target as the documents state it: 90%, 100%; decimals only where it has them (92,5%)."""
    if rate is None:
        return MISSING
    value = (Decimal(str(rate)) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    return f"{value:f}".replace(".", ",") + "%"


def points(difference) -> str:
    """A change between two rates in percentage points, signed: +1,25 / −0,40 / 0,00 (U+2212)."""
    if difference is None:
        return MISSING
    value = (Decimal(difference) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "+" if value > 0 else (MINUS if value < 0 else "")
    return sign + f"{abs(value):.2f}".replace(".", ",")


def signed_percent(change) -> str:
    """A relative change of a count: +12,3% / −4,0% (one decimal)."""
    if change is None:
        return MISSING
    value = (Decimal(change) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    sign = "+" if value > 0 else (MINUS if value < 0 else "")
    return sign + f"{abs(value):.1f}".replace(".", ",") + "%"


def short_date(day: date | None) -> str:
    """05/01/2026."""
    return MISSING if day is None else f"{day.day:02d}/{day.month:02d}/{day.year}"


def document_date(day: date) -> str:
    """The date of an administrative document (Nghị định 30/2020, Phụ lục I): days below 10 and the months
    1 and 2 take a leading zero — "ngày 05 tháng 01 năm 2026", "ngày 15 tháng 3 năm 2026"."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"
