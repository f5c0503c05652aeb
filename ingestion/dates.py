"""Dates and times of the input contract (spec/sources.md), every rule once.

Accepted: `dd/mm/yyyy[ HH:MM[:SS]]` (day first, always), ISO `yyyy-mm-dd[ HH:MM[:SS]]`, the national
portal's `yyyyMMddHHmmss`, and in workbooks real date cells and Excel serial numbers. A date without a time
means 00:00:00 for a receipt and the end of that day (23:59:59) for every other event. A file's extraction
time is in its name, `…_YYYYMMDD` (the end of that day) or `…_YYYYMMDDTHHMMSS`.

Columns are parsed by Arrow's `strptime`, one accepted form at a time; what no form takes (other spellings
such as `2/6/2025 8:15`, impossible dates such as 31/02) goes to the per-value parser, which also words why a
value is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.columns import parse_each_distinct

TIMESTAMP = pa.timestamp("us")  # parsed times: local wall-clock time, as the raw columns store them
DATE_KINDS = ("receipt_time", "event_time", "date")  # contract field kinds that hold a date
_END_OF_DAY = pa.scalar(timedelta(hours=23, minutes=59, seconds=59), pa.duration("us"))
_FIRST_DAY = pa.scalar(datetime(1, 1, 1), TIMESTAMP)


@dataclass(frozen=True)
class Form:
    """An accepted form as Arrow parses it. strptime alone is lenient (a missing space, a leap second, 31/02
    read as 03/03), so a value must also have the form's exact shape and keep its day of the month."""

    shape: str  # the whole value, as a regular expression
    strptime: str
    day_at: int  # where the two digits of the day are
    has_time: bool

    @property
    def width(self) -> int:
        """The length of its values: each field is two digits, as its directive is two characters; %Y is four."""
        return len(self.strptime) + 2 * self.strptime.count("%Y")


ARROW_FORMS = [
    Form(r"\d\d/\d\d/\d{4} \d\d:[0-5]\d:[0-5]\d", "%d/%m/%Y %H:%M:%S", 0, True),
    Form(r"\d\d/\d\d/\d{4} \d\d:[0-5]\d", "%d/%m/%Y %H:%M", 0, True),
    Form(r"\d\d/\d\d/\d{4}", "%d/%m/%Y", 0, False),
    Form(r"\d{4}-\d\d-\d\d \d\d:[0-5]\d:[0-5]\d", "%Y-%m-%d %H:%M:%S", 8, True),
    Form(r"\d{4}-\d\d-\d\d", "%Y-%m-%d", 8, False),
    Form(r"\d{14}", "%Y%m%d%H%M%S", 6, True),
]


def arrow_timestamps(column: pa.Array, end_of_day: bool) -> pa.Array:
    """Timestamps of the values in one of ARROW_FORMS with a real date and time, else null."""
    parsed = pa.nulls(len(column), TIMESTAMP)
    lengths = pc.utf8_length(column)
    empty = column.null_count + (pc.sum(pc.equal(lengths, 0)).as_py() or 0)
    for form in ARROW_FORMS:
        if parsed.null_count == empty:  # the usual case: a column is written in one form
            break
        if not pc.any(pc.equal(lengths, form.width)).as_py():  # cheaper than the regular expression
            continue
        shaped = pc.if_else(pc.match_substring_regex(column, f"^{form.shape}$"), column, None)
        values = pc.strptime(shaped, form.strptime, "us", error_is_null=True)
        day = pc.cast(pc.utf8_slice_codeunits(shaped, form.day_at, form.day_at + 2), pa.int64())
        real = pc.and_(pc.equal(pc.day(values), day), pc.greater_equal(values, _FIRST_DAY))
        if not form.has_time and end_of_day:
            values = pc.add(values, _END_OF_DAY)
        parsed = pc.coalesce(parsed, pc.if_else(real, values, None))
    return parsed


def parse_column(column: pa.Array, kind: str) -> tuple[pa.Array, pa.Array]:
    """(values, error messages) of a column of a date kind: timestamps for receipt_time and event_time, dates
    for date; null values and errors where the text is empty."""
    parsed = arrow_timestamps(column, end_of_day=kind == "event_time")
    rest = pc.and_(pc.is_null(parsed), pc.not_equal(column, ""))
    if pc.any(rest).as_py():
        values, errors = parse_each_distinct(pc.if_else(rest, column, ""), PER_VALUE[kind], pa.string())
        parsed = pc.coalesce(parsed, values.cast(TIMESTAMP))
    else:
        errors = pa.nulls(len(column), pa.string())
    return (parsed.cast(pa.date32()) if kind == "date" else parsed), errors


def has_time(column: pa.Array) -> pa.Array:
    """Whether each value gives a time of day: every accepted form with a time is longer than 10 characters,
    every one without is not."""
    return pc.greater(pc.utf8_length(column), 10)


# -- one value at a time ------------------------------------------------------------------------------
# re.ASCII: \d is 0-9 only. Fullwidth or Arabic-Indic digits are not what an export writes; Python's int()
# would read them, and a look-alike must not load as a date.
_DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?", re.ASCII)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?", re.ASCII)
_PORTAL = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?", re.ASCII)


@lru_cache(maxsize=1 << 18)
def parse_timestamp(text: str) -> tuple[str, bool]:
    """Returns (ISO 'YYYY-MM-DD HH:MM:SS' for a time given, 'YYYY-MM-DD' for a date alone, has_time)."""
    if m := _DAY_FIRST.fullmatch(text):
        day, month, year, hour, minute, second = m.groups()
    elif m := _ISO.fullmatch(text) or _PORTAL.fullmatch(text):
        year, month, day, hour, minute, second = m.groups()
    else:
        raise ValueError("is not a date in an accepted form (dd/mm/yyyy [HH:MM[:SS]], ISO, yyyyMMddHHmmss)")
    try:
        if hour is None:
            return date(int(year), int(month), int(day)).isoformat(), False
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError as exc:
        raise ValueError(f"is not a valid date ({exc})") from None
    return value.strftime("%Y-%m-%d %H:%M:%S"), True


def receipt_time(text: str) -> str:
    iso, has_time = parse_timestamp(text)
    return iso if has_time else iso + " 00:00:00"


def event_time(text: str) -> str:
    iso, has_time = parse_timestamp(text)
    return iso if has_time else iso + " 23:59:59"


def plain_date(text: str) -> str:
    return parse_timestamp(text)[0][:10]


PER_VALUE: dict[str, Callable[[str], str]] = {"receipt_time": receipt_time, "event_time": event_time,
                                              "date": plain_date}

# -- workbooks --------------------------------------------------------------------------------------------
EXCEL_LAST_SERIAL = 2958465  # 31/12/9999, the last day Excel has


def cell_text(value: datetime | date) -> str:
    """A workbook's date cell as the text the parsers read: a date alone when the time is midnight, so that
    the date-alone rule applies to it as to a typed date."""
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0:
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat()


def excel_serial_to_iso(serial: float) -> str:
    """An Excel serial date (1900 date system) as the ISO text the parsers accept; a number that is no date
    Excel can hold stays as it is (and fails the date check)."""
    if not 0 <= serial < EXCEL_LAST_SERIAL + 1:
        return str(serial)
    value = datetime(1899, 12, 30) + timedelta(days=float(serial))
    value = value.replace(microsecond=0) + timedelta(seconds=round(value.microsecond / 1e6))
    return cell_text(value)


# -- file names ---------------------------------------------------------------------------------------------
_EXTRACTION_IN_NAME = re.compile(r"_(\d{8})(?:T(\d{6}))?$")


def extraction_time(path) -> tuple[str | None, str]:
    """`…_YYYYMMDD.ext` (end of that day) or `…_YYYYMMDDTHHMMSS.ext`; None when the name carries none.
    Returns (ISO 'YYYY-MM-DD HH:MM:SS' or None, where it came from: 'file name' or 'load time')."""
    m = _EXTRACTION_IN_NAME.search(path.stem)
    if not m:
        return None, "load time"
    day, clock = m.groups()
    try:
        value = event_time(f"{day}{clock}" if clock else day)
    except ValueError:
        return None, "load time"
    return value, "file name"
