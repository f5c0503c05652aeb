"""Readers: turn an export file into records aligned to a contract, streaming, whatever its format.

Every reader yields `(place, values, extra)`: `place` is the line (text, JSON Lines), row (workbook) or
record number (JSON array); `values` one stripped NFC string per contract field ('' where absent);
`extra` a dict of the file's columns outside the contract (None when there are none).
A file that cannot be read as a whole raises `FileRejected` with the place of the problem.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import math
import re
import tomllib
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.columns import string_buffers
from ingestion.contracts import Contract
from ingestion.dates import DATE_KINDS, cell_text, excel_serial_to_iso
from ingestion.nfc import NFC_SUSPECTS, may_need_nfc

HEADER_SEARCH_ROWS = 20
TOTAL_ROW_LABELS = {"tổng cộng", "tổng số", "cộng", "tổng"}
IGNORED_HEADERS = {"stt"}
TEXT_SUFFIXES = {".csv", ".txt"}
ACCEPTED_SUFFIXES = TEXT_SUFFIXES | {".xlsx", ".xls", ".json", ".jsonl"}
csv.field_size_limit(10 * 1024 * 1024)
# openpyxl warns when a date cell holds a serial no date can be (2958466, 1e20) and reads it as '#VALUE!',
# which the row's quarantine reason then names: the warning would only repeat it, outside the audit.
warnings.filterwarnings("ignore", message=r"Cell \w+ is marked as a date but the serial value", category=UserWarning)


class FileRejected(Exception):
    """The whole file is refused; the message names the problem and where it is."""


@dataclass
class Layout:
    """What the reader found out about the file, for the audit row."""

    file_format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_line: int | None = None
    extra_columns: list[str] = field(default_factory=list)
    rows_skipped: int = 0
    max_rows: int | None = None  # of a workbook sheet (self-report submissions), else no limit


def shown(name: Path | str) -> str:
    """A file name (of a Path, or a whole path) as messages and the audit may show it: bytes that are not UTF-8
    (kept by Python as surrogates), control characters (a newline or an ANSI escape could forge or hide output
    lines) and other invisible characters are written as escapes."""
    text = name.name if isinstance(name, Path) else name
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def normalise_header(text: object) -> str:
    """NFC, stripped, case-folded and without Unicode format characters (category Cf: U+FEFF, zero-width spaces,
    bidi marks), which are invisible and would make a second, different name."""
    text = unicodedata.normalize("NFC", str(text))
    if not text.isascii():
        text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return text.strip().casefold()


def load_aliases(path: Path) -> dict[str, dict[str, list[str]]]:
    """Header alias file: `[source.entity]` tables mapping a contract field to the other headers a vendor uses."""
    if not path.exists():
        return {}
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    return {
        f"{source}.{entity}": fields
        for source, entities in data.items()
        for entity, fields in entities.items()
    }


class HeaderMap:
    """Maps a file's header names onto contract fields (contract header, portal name, or a configured alias)."""

    def __init__(self, contract: Contract, aliases: dict[str, dict[str, list[str]]]):
        self.contract = contract
        self.lookup: dict[str, int] = {}
        self.key_columns: dict[str, int | None] = {}  # a JSON key as written -> its field, memoised
        extra_aliases = aliases.get(f"{contract.source}.{contract.entity}", {})
        for index, f in enumerate(contract.fields):
            for name in [f.header, f.portal, f.name, *extra_aliases.get(f.name, [])]:
                if name:
                    self.lookup.setdefault(normalise_header(name), index)

    def resolve(self, headers: list[str], place: str) -> tuple[list[int | None], list[tuple[int, str]]]:
        """Column index of each contract field, and the extra columns. Rejects repeated headers."""
        columns: list[int | None] = [None] * len(self.contract.fields)
        extras: list[tuple[int, str]] = []
        seen: dict[str, int] = {}
        for position, header in enumerate(headers):
            key = normalise_header(header)
            if not key:
                continue
            if key in seen:
                raise FileRejected(
                    f"{place}: header '{header}' repeats (columns {seen[key] + 1} and {position + 1})"
                )
            seen[key] = position
            index = self.lookup.get(key)
            if index is None:
                if key not in IGNORED_HEADERS:
                    extras.append((position, str(header).strip()))
            elif columns[index] is not None:
                raise FileRejected(
                    f"{place}: columns {columns[index] + 1} and {position + 1} both give "
                    f"'{self.contract.fields[index].header}'"
                )
            else:
                columns[index] = position
        return columns, extras

    def missing_required(self, headers: list[str]) -> list[str]:
        present = {self.lookup.get(normalise_header(h)) for h in headers}
        return [f.header for i, f in enumerate(self.contract.fields) if f.required and i not in present]


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


# -- delimited text -------------------------------------------------------------------------------------
def _detect_encoding(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    return "utf-8"


def _text_lines(path: Path, encoding: str) -> Iterator[str]:
    """Decoded NFC lines; a byte sequence that is not in the file's encoding rejects the file, with its line."""
    name = shown(path)
    too_long = f"longer than {MAX_LINE_BYTES >> 20} MiB; no export line is that long"
    if encoding == "utf-16":
        with open(path, encoding="utf-16", newline="") as handle:
            number = 0
            try:
                for number, line in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES // 2 + 1), ""), 1):
                    if len(line) > MAX_LINE_BYTES // 2:
                        raise FileRejected(f"{name}: line {number}: {too_long}")
                    yield _nfc(line)
            except UnicodeError as exc:
                raise FileRejected(f"{name}: near line {number + 1}: not valid UTF-16 ({exc.reason})") from None
        return
    with open(path, "rb") as handle:
        for number, raw in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), 1):
            if len(raw) > MAX_LINE_BYTES:
                raise FileRejected(f"{name}: line {number}: {too_long}")
            if number == 1 and encoding == "utf-8-sig":
                raw = raw[3:]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FileRejected(
                    f"{name}: line {number}, byte {exc.start + 1}: not valid UTF-8 — the accepted encodings are "
                    "UTF-8 (with or without BOM) and UTF-16 with BOM; save the export again as UTF-8"
                ) from None
            yield _nfc(line)


def _find_header(rows: list[list[str]], header_map: HeaderMap) -> int | None:
    return next((i for i, row in enumerate(rows) if not header_map.missing_required(row)), None)


def _best_candidate_message(name: str, rows: list[list[str]], header_map: HeaderMap, unit: str) -> str:
    scored = [(len(header_map.missing_required(r)), i) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not scored:
        return f"{name}: the file is empty (no header row within the first {HEADER_SEARCH_ROWS} rows)"
    missing, index = min(scored)
    names = ", ".join(f"'{h}'" for h in header_map.missing_required(rows[index]))
    return f"{name}: {unit} {index + 1}: required column(s) {names} missing from the header row"


CSV_BLOCK_BYTES = 1 << 21  # Arrow reads delimited text in blocks of this size; a row may span two at most
MAX_LINE_BYTES = 16 << 20  # a line read by Python (the header search, JSON Lines)


@dataclass
class Batch:
    """A block of records: `columns` holds one string array per contract field ('' where empty)."""

    places: np.ndarray
    columns: list[pa.Array]
    extra: list[dict | None] | None = None  # columns outside the contract, per row
    # Lines that could not become records at all (wrong number of cells, not JSON): (place, text, reason)
    unreadable: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return len(self.places)


# Every Cf character lies in planes 0, 1 and 14 (tests/test_hostile.py checks against the whole range).
FORMAT_CHARACTERS = frozenset(chr(c) for c in itertools.chain(range(0xD800), range(0xE000, 0x20000),
                                                             range(0xE0000, 0xE1000))
                              if unicodedata.category(chr(c)) == "Cf")
# What trimming removes at either end of a value: Arrow's whitespace, then format characters, repeatedly.
_EDGES = "[\\s\\p{Z}\\p{Cf}\\x{85}]"
_TRIM_EDGES = f"^{_EDGES}+|{_EDGES}+$"


def _whitespace_edges() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which bytes may begin / end a character Arrow's trim removes (every such character is below U+3001;
    tests/test_nfc.py checks), by byte value; and which first two / last two bytes of a value may, by pair
    (a one-byte space pairs with any byte): 0xE1 begins Ủ as well as U+1680, 0xA0 ends à as well as U+00A0."""
    chars = [chr(c) for c in range(0x3001) if not 0xD800 <= c <= 0xDFFF]
    trimmed = pc.utf8_trim_whitespace(pa.array(chars)).to_pylist()
    spaces = [c for c, rest in zip(chars, trimmed, strict=True) if not rest]
    first, last = np.zeros(256, dtype=bool), np.zeros(256, dtype=bool)
    first_two, last_two = np.zeros((256, 256), dtype=bool), np.zeros((256, 256), dtype=bool)
    # Format characters (Cf) are trimmed too: a U+FEFF where two exports were joined, a zero-width space.
    for code in (char.encode() for char in [*spaces, *FORMAT_CHARACTERS]):
        first[code[0]] = last[code[-1]] = True
        if len(code) == 1:
            first_two[code[0], :] = last_two[:, code[0]] = True
        else:
            first_two[code[0], code[1]] = last_two[code[-2], code[-1]] = True
    return first, last, first_two, last_two


WHITESPACE_FIRST_BYTE, WHITESPACE_LAST_BYTE, WHITESPACE_FIRST_TWO, WHITESPACE_LAST_TWO = _whitespace_edges()


def clean_column(array: pa.Array) -> pa.Array:
    """Strip surrounding spaces and normalise to NFC; nulls become ''. A scan of the bytes finds the columns
    that may need NFC and the values that may need trimming, so most values are left as they are."""
    if array.type != pa.string():
        array = array.cast(pa.string())
    if array.null_count:
        array = pc.fill_null(array, "")
    offsets, data = string_buffers(array)
    if may_need_nfc(data[offsets[0]:offsets[-1]]):
        suspects = pc.match_substring_regex(array, NFC_SUSPECTS)
        if pc.any(suspects).as_py():
            array = pc.replace_with_mask(array, suspects, pc.utf8_normalize(array.filter(suspects), "NFC"))
            offsets, data = string_buffers(array)
    if not data.size:
        return array
    starts, ends = offsets[:-1], offsets[1:]
    edges = WHITESPACE_FIRST_BYTE.take(data.take(starts, mode="clip"))
    edges |= WHITESPACE_LAST_BYTE.take(data.take(ends - 1, mode="clip"))
    if not edges.any():
        return array
    # The few values an edge byte flagged, by their first and last two bytes (a byte of a short value's
    # neighbour may be read: it can only flag more); empty values have no edges.
    rows = np.flatnonzero(edges & (ends > starts))
    first, last = starts[rows], ends[rows]
    rows = rows[WHITESPACE_FIRST_TWO[data[first], data.take(first + 1, mode="clip")]
                | WHITESPACE_LAST_TWO[data.take(last - 2, mode="clip"), data[last - 1]]]
    if not rows.size:
        return array
    mask = np.zeros(len(array), dtype=bool)
    mask[rows] = True
    mask = pa.array(mask)
    trimmed = pc.utf8_trim_whitespace(array.filter(mask))
    if pc.any(pc.match_substring_regex(trimmed, _TRIM_EDGES)).as_py():  # format characters at an edge
        trimmed = pc.utf8_trim_whitespace(pc.replace_substring_regex(trimmed, _TRIM_EDGES, ""))
    return pc.replace_with_mask(array, mask, trimmed)


def _skippable(cells: list[str]) -> bool:
    """A row without a key that is blank or reads as a totals row."""
    texts = [c.strip().casefold().rstrip(":") for c in cells if c and c.strip()]
    return not texts or any(t in TOTAL_ROW_LABELS for t in texts[:3])


def reject_undecodable(path: Path, layout: Layout) -> None:
    """Raises FileRejected naming the first line of a delimited file that is not valid in its encoding or holds
    a NUL character (no PostgreSQL text can), if any: for when something decoding the file's values (Python,
    an Arrow kernel, the server) refused one."""
    if layout.encoding:
        for number, line in enumerate(_text_lines(path, layout.encoding), 1):
            if "\x00" in line:
                raise FileRejected(f"{shown(path)}: line {number}: a NUL character (U+0000), which no text value can "
                                   "hold; remove it and export the file again")


def _batch_from_table(table, columns, extras, header_map, layout, places, unreadable):
    """Contract-aligned batch from a block of the file's columns (by position), dropping skippable rows."""
    n = table.num_rows
    used = set(columns) | {p for p, _ in extras}
    for position in range(table.num_columns):
        if position not in used:  # a column nothing else decodes (STT, no header): its UTF-8 checked here
            table.column(position).validate(full=True)
    key_indexes = header_map.contract.key_indexes
    aligned = [clean_column(table.column(c)) if c is not None else pa.array([""] * n, pa.string()) for c in columns]
    no_key = np.ones(n, dtype=bool)
    for k in key_indexes:
        no_key &= pc.equal(aligned[k], "").to_numpy(zero_copy_only=False)
    keep = np.ones(n, dtype=bool)
    for i in np.flatnonzero(no_key):
        cells = [table.column(j)[i].as_py() or "" for j in range(table.num_columns)]
        if _skippable(cells):
            keep[i] = False
            layout.rows_skipped += 1
    if not keep.all():
        mask = pa.array(keep)
        aligned, places, table = [a.filter(mask) for a in aligned], places[keep], table.filter(mask)
    extra = None
    if extras:
        extra_columns = [(label, table.column(p).to_pylist()) for p, label in extras]
        extra = [{label: values[i] for label, values in extra_columns if values[i] not in (None, "")} or None
                 for i in range(table.num_rows)]
    return Batch(places, aligned, extra, unreadable)


def read_delimited(path: Path, header_map: HeaderMap, layout: Layout) -> Iterator[Batch]:
    encoding = _detect_encoding(path)
    layout.encoding = encoding
    head = list(itertools.islice(_text_lines(path, encoding), HEADER_SEARCH_ROWS))
    if head and "\r" in head[0].rstrip("\r\n"):
        raise FileRejected(f"{shown(path)}: line 1: lines end with a carriage return alone (CR, as classic Mac OS "
                           "wrote them); save the export again with Windows (CRLF) or Unix (LF) line ends")
    try:
        readings = {delimiter: list(csv.reader(head, delimiter=delimiter)) for delimiter in (",", ";", "\t")}
    except csv.Error as exc:  # e.g. a field over the size limit; its text quotes no value
        raise FileRejected(f"{shown(path)}: within the first {len(head)} lines: {first_line(exc)}") from None
    # The first header row any delimiter finds; on the same row, the delimiter that splits it into most cells.
    found = [(index, -len(rows[index]), delimiter) for delimiter, rows in readings.items()
             if (index := _find_header(rows, header_map)) is not None]
    if not found:
        rows = max(readings.values(), key=lambda r: max(map(len, r), default=0))
        raise FileRejected(_best_candidate_message(shown(path), rows, header_map, "line"))
    header_index, _, delimiter = min(found)
    rows = readings[delimiter]
    layout.delimiter = delimiter
    layout.header_line = header_index + 1
    headers = rows[header_index]
    columns, extras = header_map.resolve(headers, f"{shown(path)}: line {header_index + 1}")
    layout.extra_columns = [name for _, name in extras]
    positional = [f"c{i}" for i in range(len(headers))]
    unreadable: list[tuple[int, str, str]] = []  # rows of the wrong width, in file order, as Arrow reports them
    first_place = header_index + 2  # of the next block, while records and lines go together

    def invalid_row(row) -> str:
        cells = len(next(csv.reader([row.text], delimiter=delimiter), []))
        place = row.number or (first_place + len(unreadable))
        if not row.text.strip(delimiter + " \r\n"):
            layout.rows_skipped += 1
        else:
            unreadable.append((place, row.text, f"the row has {cells} cells, the header {len(headers)}"))
        return "skip"

    # Arrow counts records, not lines, and does not say where a row it skipped was: once records and lines part
    # ways, Python's csv module, reading alongside, gives each record its first line (_record_lines).
    lines: Iterator | None = None
    broken = False  # the two parsers disagreed: lines are counted on from there, as records
    handed = 0  # unreadable rows handed on so far

    def take(n: int) -> tuple[np.ndarray, list[int]]:
        """The first lines of the next n records of the header's width, and of the rows of another width passed
        on the way, in file order like Arrow's."""
        nonlocal broken
        places, bad, i = np.zeros(n, dtype=np.int64), [], 0
        while i < n:
            start, fits = next(lines)
            if fits is None:  # the csv module stopped before Arrow did
                places[i:] = np.arange(start, start + n - i)
                broken = True
                break
            if fits:
                places[i] = start
                i += 1
            else:
                bad.append(start)
        return places, bad

    import pyarrow.csv as pcsv

    try:
        reader = pcsv.open_csv(
            # Arrow takes a path as UTF-8; a name that is not (Linux allows any bytes) is opened by Python.
            path if str(path).isprintable() else pa.PythonFile(open(path, "rb"), mode="r"),  # noqa: SIM115
            read_options=pcsv.ReadOptions(
                skip_rows=header_index + 1, column_names=positional, block_size=CSV_BLOCK_BYTES,
                encoding="utf8" if encoding.startswith("utf-8") else encoding,
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=invalid_row
            ),
            # Not checked for UTF-8 here: whatever decodes a value checks it (the server every value loaded
            # into raw), and reject_undecodable names the line; checking every value twice cost 0.2 s a million rows.
            convert_options=pcsv.ConvertOptions(
                column_types={name: pa.string() for name in positional},
                strings_can_be_null=False, quoted_strings_can_be_null=False, check_utf8=False,
            ),
        )
        for record_batch in reader:
            n = record_batch.num_rows
            if lines is None and (len(unreadable) > handed or _spans_lines(record_batch)):
                lines = _record_lines(path, encoding, delimiter, header_index + 1, len(headers))
                take(first_place - header_index - 2)  # the records handed on already
            if lines is None or broken:
                places, bad_lines = np.arange(first_place, first_place + n, dtype=np.int64), []
            else:
                places, bad_lines = take(n)
            bad = [(line, *unreadable[handed + i][1:]) for i, line in enumerate(bad_lines)
                   if handed + i < len(unreadable)]
            handed += len(bad)
            yield _batch_from_table(record_batch, columns, extras, header_map, layout, places, bad)
            first_place += n
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError) or "utf8" in str(exc).lower() or "utf-8" in str(exc).lower():
            reject_undecodable(path, layout)
        raise FileRejected(f"{shown(path)}: near line {first_place}: {_arrow_problem(exc)}") from None
    rest = [start for start, fits in lines if fits is False] if lines is not None and not broken else []
    bad = [(rest[i] if i < len(rest) else place, text, reason)
           for i, (place, text, reason) in enumerate(unreadable[handed:])]
    if bad:
        yield Batch(np.zeros(0, dtype=np.int64), [pa.array([], pa.string()) for _ in columns], None, bad)


def _spans_lines(table) -> bool:
    """Whether a value of the block holds a line end (a quoted value over several lines)."""
    for column in table.columns:
        data = column.buffers()[2]
        # bytes.find is memchr: a copy and a scan cost far less than a NumPy comparison of every byte
        if data is not None and data.to_pybytes().find(b"\n") >= 0:
            return True
    return False


def _record_lines(path: Path, encoding: str, delimiter: str, skip: int, width: int
                  ) -> Iterator[tuple[int, bool | None]]:
    """(first line, whether of the header's width) of each record of a delimited file after the first `skip`,
    read by Python's csv module; a record of another width that holds nothing is left out (Arrow skips it too),
    and an empty line is a record of the width (Arrow reads it as a row of empty values). Ends with
    (the next line, None) where the file or the csv module ends."""
    line = 0
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            for number, record in enumerate(reader):
                start, line = line + 1, reader.line_num
                fits = len(record) == width or not record
                if number >= skip and (fits or any(cell.strip() for cell in record)):
                    yield start, fits
        except (csv.Error, UnicodeError):
            pass
    yield line + 1, None


def _arrow_problem(exc: Exception) -> str:
    """Arrow's complaint about a delimited file, without the row text some of its messages quote."""
    text = str(exc)
    if "straddl" in text:
        return "a row too long to read (several MiB: a value that long, or a quote that is never closed)"
    return text.split(":")[0][:120]


def _batches_from_rows(rows, width: int) -> Iterator[Batch]:
    """Batches from (place, values, extra) rows of the workbook and JSON readers; a row that could not become a
    record comes as (place, None, (text, reason))."""
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, 10000)):
        records = [r for r in chunk if r[1] is not None]
        places = np.array([r[0] for r in records], dtype=np.int64)
        columns = [clean_column(pa.array([r[1][i] for r in records], pa.string())) for i in range(width)]
        extra = [r[2] for r in records]
        unreadable = [(place, *problem) for place, values, problem in chunk if values is None]
        yield Batch(places, columns, extra if any(extra) else None, unreadable)


# -- workbooks ------------------------------------------------------------------------------------------
def _cell_text(value, is_date: bool = False) -> str:
    """A workbook cell's or JSON value's text (a JSON list or object as JSON); a date cell as the parsers
    read it, and a number in a date column as the date it stands for in Excel."""
    if value is None:
        return ""
    if isinstance(value, date):  # and datetime
        return cell_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if is_date:
            return excel_serial_to_iso(value)  # a number no date can be stays a number, quarantined
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return _nfc(str(value))


def _sheet_rows(path: Path, layout: Layout) -> Iterator[list]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on a damaged workbook; its text names no value
            raise FileRejected(f"{shown(path)}: not a readable .xlsx workbook ({first_line(exc)})") from None
        try:
            # A self-report workbook names the sheet to read (layout.sheet); an export is its first sheet.
            sheet = workbook[layout.sheet] if layout.sheet else workbook.worksheets[0]
        except (KeyError, IndexError):
            workbook.close()
            raise FileRejected(f"{shown(path)}: the workbook has no sheet '{layout.sheet or 1}'") from None
        layout.sheet = sheet.title
        # The sheet's <dimension> element is written by the exporting program and may be stale ("A1:X10" over
        # 102 rows, or just "A1"): read-only mode trusts it unless told not to, and rows beyond it would vanish.
        sheet.reset_dimensions()
        yield from _guarded_rows(sheet.iter_rows(values_only=True), path, layout, workbook.close)
    else:
        import xlrd

        try:
            book = xlrd.open_workbook(str(path), on_demand=True)
            sheet = book.sheet_by_index(0)
        except Exception as exc:  # xlrd raises its own errors and plain ones (struct, index) on a damaged file
            raise FileRejected(f"{shown(path)}: not a readable .xls workbook ({first_line(exc)})") from None
        layout.sheet = sheet.name

        def value(cell):
            if cell.ctype != xlrd.XL_CELL_DATE:
                return cell.value if cell.value != "" else None
            try:
                return xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
            except (ValueError, OverflowError):  # no date: the number, which fails the date check
                return cell.value

        rows = ([value(cell) for cell in sheet.row(r)] for r in range(sheet.nrows))
        yield from _guarded_rows(rows, path, layout, book.release_resources)


def _guarded_rows(rows: Iterator, path: Path, layout: Layout, close) -> Iterator:
    """A sheet's rows; a workbook damaged further in (a corrupt deflate stream, truncated XML) rejects the file
    naming the last row read. The error's own text is not shown: it may quote the cell it stopped at."""
    number = 0
    try:
        for number, row in enumerate(rows, 1):  # noqa: B007
            if layout.max_rows and number > layout.max_rows:
                raise FileRejected(f"{shown(path)}: sheet '{layout.sheet}': more than {layout.max_rows:,} rows "
                                   "(REFORMWH_SUBMISSION_MAX_SHEET_ROWS)")
            yield row
    except FileRejected:
        raise
    except Exception as exc:
        raise FileRejected(f"{shown(path)}: sheet '{layout.sheet}', after row {number}: the workbook is damaged "
                           f"and cannot be read further ({type(exc).__name__})") from None
    finally:
        close()


def first_line(exc: BaseException) -> str:
    """An error's first line, short: for errors of file structure, which quote no cell or field value."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return shown(text[:200])


def read_workbook(path: Path, header_map: HeaderMap, layout: Layout):
    rows = _sheet_rows(path, layout)
    head = list(itertools.islice(rows, HEADER_SEARCH_ROWS))
    head_text = [[_cell_text(v, False) for v in row] for row in head]
    header_index = _find_header(head_text, header_map)
    sheet = f"sheet '{layout.sheet}'"
    if header_index is None:
        raise FileRejected(_best_candidate_message(f"{shown(path)}: {sheet}", head_text, header_map, "row"))
    layout.header_line = header_index + 1
    columns, extras = header_map.resolve(head_text[header_index], f"{shown(path)}: {sheet}, row {header_index + 1}")
    layout.extra_columns = [name for _, name in extras]
    date_columns = {c for c, f in zip(columns, header_map.contract.fields, strict=True)
                    if c is not None and f.kind in DATE_KINDS}
    key_indexes = header_map.contract.key_indexes
    width = max([c for c in columns if c is not None] + [p for p, _ in extras]) + 1

    def records():
        for number, row in enumerate(itertools.chain(head[header_index + 1 :], rows), header_index + 2):
            cells = [_cell_text(v, i in date_columns) for i, v in enumerate(row)]
            cells += [""] * (width - len(cells))
            values = [cells[c].strip() if c is not None else "" for c in columns]
            if not any(values[i] for i in key_indexes) and _skippable(cells):
                layout.rows_skipped += 1
                continue
            yield number, values, {label: cells[p] for p, label in extras if cells[p] != ""} or None

    yield from _batches_from_rows(records(), len(columns))


# -- JSON -----------------------------------------------------------------------------------------------
NESTED_TOTALS = {
    # portal list field -> how it becomes the contract value
    "DanhSachLePhi": lambda items: str(sum(int(str(i.get("Gia") or 0).replace(".", "").replace(",", ""))
                                           for i in items)),
    "DanhSachHoSoBoSung": lambda items: str(len(items)),
}


def _json_record(obj, header_map: HeaderMap, width: int) -> tuple[list[str], dict | None]:
    values = [""] * width
    extra = {}
    columns = header_map.key_columns
    for key, value in obj.items():
        try:
            index = columns[key]
        except KeyError:  # each record repeats the same keys: each is normalised once
            index = columns[key] = header_map.lookup.get(normalise_header(key))
        if isinstance(value, list) and key in NESTED_TOTALS:
            extra[key] = value  # the nested list stays verbatim in raw
            try:
                text = NESTED_TOTALS[key](value)
            except (ValueError, TypeError, AttributeError):
                text = _cell_text(value).strip()  # fails validation, so the row is quarantined with the list
        else:
            text = _cell_text(value).strip()
        if index is None:
            if key not in NESTED_TOTALS:
                extra[key] = value
        else:
            values[index] = text
    return values, extra or None


# Python refuses to convert more than 4,300 digits, and no column holds 19; 1e400 is no finite number: such a
# number stays text, which fails its column's check, so the row is quarantined instead of the file refused.
JSON_DECODER = json.JSONDecoder(parse_int=lambda text: int(text) if len(text) <= 18 else text,
                                parse_float=lambda text: value if math.isfinite(value := float(text)) else text)
JSON_CHUNK = 1 << 20
MAX_RECORD_CHARS = 16 << 20  # one record of a JSON array, or one JSON Lines line
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
UNPAIRED_SURROGATE = "holds an unpaired surrogate escape (\\ud800–\\udfff), which is not a character"


def _json_value_kind(char: str) -> str:
    return {"{": "an object", '"': "a string", "t": "true", "f": "false", "n": "null", "": "nothing"}.get(
        char, "a number" if char in "-0123456789" else f"'{shown(char)}'")


def _unpaired_surrogate(obj, text: str) -> bool:
    """Whether a record holds a \\udc00 escape that is not half of a pair: no text can hold it. Only records
    whose text has such an escape at all are encoded to find out."""
    if not _SURROGATE_ESCAPE.search(text):
        return False
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _json_array_records(path: Path, encoding: str) -> Iterator[tuple[int, object, str | None]]:
    """The records of a JSON array, one at a time: (record number, object, None), or (number, '', reason)
    for a record that is not a usable object. Python's decoder reads one record at a time from a window of
    the file; anything that is not an array of records rejects the file with its record number, never with
    the text around the error (which would echo personal values)."""
    name = shown(path)
    with open(path, encoding=encoding, newline="") as handle:
        buffer, pos, eof, number = "", 0, False, 0

        def more() -> bool:
            nonlocal buffer, pos, eof
            if eof:
                return False
            try:
                chunk = handle.read(JSON_CHUNK)
            except UnicodeDecodeError as exc:
                raise FileRejected(f"{name}: after record {number}: not valid {encoding.upper().removesuffix('-SIG')} "
                                   f"({exc.reason})") from None
            eof = not chunk
            buffer, pos = buffer[pos:] + chunk, 0
            return not eof

        def skip_space() -> str:
            nonlocal pos
            while True:
                while pos < len(buffer) and buffer[pos] in " \t\r\n":
                    pos += 1
                if pos < len(buffer) or not more():
                    return buffer[pos] if pos < len(buffer) else ""

        first = skip_space()
        if first != "[":
            if first == "":
                raise FileRejected(f"{name}: the file is empty; a JSON export is an array of records [{{…}}, …]")
            raise FileRejected(f"{name}: the top level is {_json_value_kind(first)}, not an array of records; "
                               "export the records as a JSON array [{…}, …] or as JSON Lines")
        pos += 1
        char = skip_space()
        if char == "]":  # an empty array
            pos += 1
        while char != "]":  # at a record: the first one, or one after ','
            if skip_space() == "":
                raise FileRejected(f"{name}: after record {number}: the file ends inside the array (cut short?)")
            number += 1
            while True:
                try:
                    obj, end = JSON_DECODER.raw_decode(buffer, pos)
                    if end < len(buffer) or eof:  # a number at the window's end may go on in the next chunk
                        break
                except json.JSONDecodeError as exc:
                    if eof or len(buffer) - pos > MAX_RECORD_CHARS:
                        what = (f"larger than {MAX_RECORD_CHARS >> 20} MiB or not valid JSON"
                                if not eof else f"not valid JSON ({exc.msg})")
                        raise FileRejected(f"{name}: record {number}: {what}") from None
                except RecursionError:
                    raise FileRejected(f"{name}: record {number}: nested too deeply to be a record") from None
                more()
            if not isinstance(obj, dict):
                yield number, "", f"not a JSON object (found {_json_value_kind(buffer[pos])})"
            elif _unpaired_surrogate(obj, buffer[pos:end]):
                yield number, "", UNPAIRED_SURROGATE
            else:
                yield number, obj, None
            pos = end
            char = skip_space()
            pos += 1
            if char == "":
                raise FileRejected(f"{name}: after record {number}: the file ends inside the array (cut short?)")
            if char not in ",]":
                raise FileRejected(f"{name}: after record {number}: expected ',' or ']' between records, "
                                   f"found {_json_value_kind(char)}")
        if skip_space():
            raise FileRejected(f"{name}: after the array's closing ']': more text; one JSON array per file")


def _json_lines(path: Path, encoding: str, layout: Layout) -> Iterator[tuple[int, object, str | None]]:
    """The records of a JSON Lines file, as _json_array_records gives them (a bad line's text in place of the
    object); blank lines are skipped."""
    for number, line in enumerate(_text_lines(path, encoding), 1):
        if not line.strip():
            layout.rows_skipped += 1
            continue
        try:
            obj = JSON_DECODER.decode(line)
        except json.JSONDecodeError as exc:
            problem = f"not valid JSON ({exc.msg})"
        except RecursionError:
            problem = "not valid JSON (nested too deeply)"
        else:
            problem = ("not a JSON object" if not isinstance(obj, dict)
                       else UNPAIRED_SURROGATE if _unpaired_surrogate(obj, line) else None)
        yield (number, obj, None) if problem is None else (number, line.rstrip("\r\n"), problem)


def read_json(path: Path, header_map: HeaderMap, layout: Layout):
    width = len(header_map.contract.fields)
    layout.encoding = _detect_encoding(path)
    records = (_json_lines(path, layout.encoding, layout) if layout.file_format == "jsonl"
               else _json_array_records(path, layout.encoding))
    rows = ((number, None, (obj, problem)) if problem else (number, *_json_record(obj, header_map, width))
            for number, obj, problem in records)
    yield from _batches_from_rows(rows, width)


def open_batches(path: Path, header_map: HeaderMap) -> tuple[Layout, Iterator]:
    suffix = path.suffix.lower()
    if suffix in {".rar", ".7z", ".zip"}:
        raise FileRejected(f"{shown(path)}: archives are not one-stop-shop or document exports; send CSV, XLSX or JSON")
    if suffix not in ACCEPTED_SUFFIXES:
        raise FileRejected(
            f"{shown(path)}: '{suffix or 'no extension'}' is not an accepted kind of file "
            f"(accepted: {', '.join(sorted(ACCEPTED_SUFFIXES))})"
        )
    layout = Layout(suffix[1:])
    if suffix in TEXT_SUFFIXES:
        return layout, read_delimited(path, header_map, layout)
    if suffix in {".xlsx", ".xls"}:
        return layout, read_workbook(path, header_map, layout)
    return layout, read_json(path, header_map, layout)
