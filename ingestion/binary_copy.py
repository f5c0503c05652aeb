"""PostgreSQL's binary COPY format, built a whole column at a time with Arrow and NumPy.

Why binary: from CSV the server parses every value again (timestamps are the dearest); from binary it only
copies values in. For a million dossier rows that is about 2.9 s of server CPU instead of 4.3 s, on the
same cores the loader needs (bench/bench_ingest.py). Nothing here runs Python per row: each field becomes
a binary array of `length + bytes` (length -1 for NULL) and one element-wise join of all the fields gives
each tuple; the join's data buffer is the stream.

Format (PostgreSQL docs, "COPY — Binary Format"): a signature and flags, then per tuple an int16 field
count and per field an int32 length and the value in the type's binary send form, then an int16 -1.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.columns import string_buffers

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
TRAILER = struct.pack("!h", -1)
NULL = struct.pack("!i", -1)
_PG_EPOCH_DAYS = 10957  # 2000-01-01, PostgreSQL's epoch, in days since 1970-01-01
_FIXED = {"smallint": ">i2", "integer": ">i4", "bigint": ">i8", "boolean": "u1"}


def sql_type_name(declaration: str) -> str:
    """'timestamp not null' -> 'timestamp'."""
    return declaration.split(" not null")[0].split(" default ")[0].strip()


def encode_rows(columns: list[pa.Array | pa.Scalar], sql_types: list[str]) -> pa.Buffer:
    """The COPY tuples of these columns (arrays of equal length, or a scalar repeated on every row), each
    written as its SQL type. Text: string arrays, '' stored as NULL (raw's convention, as FORCE_NULL did in
    CSV); timestamp: Arrow timestamps or ISO text 'YYYY-MM-DD HH:MM:SS'; date: ISO text 'YYYY-MM-DD';
    numbers and booleans: Arrow integers and booleans; numeric: decimal text; jsonb: JSON text."""
    n = next((len(c) for c in columns if isinstance(c, pa.Array)), 0)
    if n == 0:
        return pa.py_buffer(b"")
    parts: list[Part] = [struct.pack("!h", len(columns))]
    for column, sql_type in zip(columns, sql_types, strict=True):
        if isinstance(column, pa.Scalar):
            parts.append(_encode_scalar(column.as_py(), sql_type))
        else:
            parts += _encode_column(column, sql_type)
    tuples = pc.binary_join_element_wise(*_merge_runs(parts, n), pa.scalar(b"", pa.binary()))
    offsets = np.frombuffer(tuples.buffers()[1], dtype=np.int32, count=n + 1, offset=4 * tuples.offset)
    return tuples.buffers()[2][offsets[0]:offsets[-1]]


@dataclass
class Nullable:
    """Fixed-width values of which some are NULL: per row `length + bytes`, or just -1 where NULL."""

    values: np.ndarray  # (n, width) bytes
    valid: np.ndarray  # (n,) bool


# A part of every tuple: the same bytes on every row, an (n, width) array of bytes per row, fixed-width
# values of which some are NULL, or an Arrow binary array (variable width).
Part = bytes | np.ndarray | Nullable | pa.Array


def _merge_runs(parts: list[Part], n: int) -> list[pa.Array | pa.Scalar]:
    """The parts as join arguments, each run of constant and fixed-width parts made one: the join costs
    about the same for every argument of every row, however short. Within a run, the stretch from its first
    to its last part with NULLs becomes one variable-width argument (the parsed event times, side by side)."""
    merged: list[pa.Array | pa.Scalar] = []
    run: list[bytes | np.ndarray | Nullable] = []

    def close_fixed(fixed: list[bytes | np.ndarray]) -> None:
        # Constants at either end stay scalars (free to the join); the rest becomes one array.
        arrays = [i for i, p in enumerate(fixed) if not isinstance(p, bytes)]
        if not arrays:
            if fixed:
                merged.append(pa.scalar(b"".join(fixed), pa.binary()))
            return
        first, last = arrays[0], arrays[-1]
        if first:
            merged.append(pa.scalar(b"".join(fixed[:first]), pa.binary()))
        middle = [_rows(p, n) for p in fixed[first:last + 1]]
        merged.append(_fixed_width_binary(middle[0] if len(middle) == 1 else np.concatenate(middle, axis=1)))
        if last + 1 < len(fixed):
            merged.append(pa.scalar(b"".join(fixed[last + 1:]), pa.binary()))

    def close_run() -> None:
        nullable = [i for i, p in enumerate(run) if isinstance(p, Nullable)]
        if not nullable:
            close_fixed(run)
        else:
            close_fixed(run[:nullable[0]])
            merged.append(_compacted(run[nullable[0]:nullable[-1] + 1], n))
            close_fixed(run[nullable[-1] + 1:])
        run.clear()

    for part in parts:
        if isinstance(part, pa.Array):
            if run:
                close_run()
            merged.append(part)
        else:
            run.append(part)
    if run:
        close_run()
    return merged


def _rows(part: bytes | np.ndarray, n: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(part, dtype=np.uint8), (n, len(part))) if isinstance(part, bytes) else part


def _compacted(parts: list[bytes | np.ndarray | Nullable], n: int) -> pa.Array:
    """Side-by-side parts, some with NULLs, as one variable-width array: the rows of all their bytes, less the
    value bytes of the NULLs. Dropped four bytes at a time where every NULL's bytes are whole aligned words
    (timestamps, dates, integers), else a byte at a time."""
    blocks, drops, start = [], [], 0
    for part in parts:
        if isinstance(part, Nullable):
            width = part.values.shape[1]
            length = np.where(part.valid, width, -1).astype(">i4").view(np.uint8).reshape(n, 4)
            blocks += [length, part.values]
            drops.append((start + 4, width, ~part.valid))
            start += 4 + width
        else:
            blocks.append(_rows(part, n))
            start += blocks[-1].shape[1]
    record = np.concatenate(blocks, axis=1)
    lengths = np.full(n, start, dtype=np.int32)
    for _, width, null in drops:
        lengths -= null * np.int32(width)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    step = 4 if start % 4 == 0 and all(at % 4 == 0 and width % 4 == 0 for at, width, _ in drops) else 1
    keep = np.ones((n, start // step), dtype=bool)
    for at, width, null in drops:
        keep[null, at // step:(at + width) // step] = False
    data = (record.view(np.uint32) if step == 4 else record)[keep]
    return pa.BinaryArray.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _encode_column(column: pa.Array, sql_type: str) -> list[Part]:
    if sql_type in ("text", "jsonb"):
        return _variable(column, b"\x01" if sql_type == "jsonb" else b"")
    if sql_type in _FIXED:
        values = column.to_numpy(zero_copy_only=False) if column.null_count == 0 else \
            pc.fill_null(column, False if sql_type == "boolean" else 0).to_numpy(zero_copy_only=False)
        return _fixed(values.astype(_FIXED[sql_type]), _valid(column))
    if sql_type == "timestamp":  # Arrow timestamps, or ISO text that Arrow's cast parses
        micros = pc.fill_null(column.cast(pa.timestamp("us")).cast(pa.int64()), 0).to_numpy()
        return _fixed((micros - _PG_EPOCH_DAYS * 86_400_000_000).astype(">i8"), _valid(column))
    if sql_type == "date":
        days = pc.fill_null(column.cast(pa.date32()).cast(pa.int32()), 0).to_numpy()
        return _fixed((days - _PG_EPOCH_DAYS).astype(">i4"), _valid(column))
    if sql_type == "numeric":
        return [_per_distinct(column, lambda text: _with_length(_numeric(text)))]
    raise ValueError(f"no binary COPY encoding for SQL type '{sql_type}'")


def _encode_scalar(value, sql_type: str) -> bytes:
    # A load's lineage (text, integers) is the same on every block: encoded once. Not numbers that compare
    # equal but encode apart (Decimal 1.5 and 1.50).
    if value is None or type(value) in (str, int):
        return _encode_lineage(value, sql_type)
    return _encode_any_scalar(value, sql_type)


@functools.lru_cache(maxsize=256)
def _encode_lineage(value: str | int | None, sql_type: str) -> bytes:
    return _encode_any_scalar(value, sql_type)


def _encode_any_scalar(value, sql_type: str) -> bytes:
    if value is None or (value == "" and sql_type in ("text", "jsonb")):
        return NULL
    if sql_type in ("text", "jsonb"):
        return _with_length((b"\x01" if sql_type == "jsonb" else b"") + value.encode())
    return b"".join(part if isinstance(part, bytes) else part[0].as_py() if isinstance(part, pa.Array)
                    else part[0].tobytes() for part in _encode_column(pa.array([value]), sql_type))


def _with_length(payload: bytes) -> bytes:
    return struct.pack("!i", len(payload)) + payload


def _valid(column: pa.Array) -> np.ndarray | None:
    return None if column.null_count == 0 else column.is_valid().to_numpy(zero_copy_only=False)


def _variable(column: pa.Array, prefix: bytes) -> list[Part]:
    """Text-like values as two parts: the lengths, then the bytes ('' and NULL both as NULL). Values all of
    one width (codes, ID numbers, hashes) are a fixed-width part, which the join merges with its neighbours."""
    values = column.view(pa.binary()) if column.type == pa.string() else column.cast(pa.binary())
    offsets, data = string_buffers(values)
    lengths = np.diff(offsets)
    valid = _valid(values)
    if valid is None and not prefix and lengths.size and lengths[0] and (lengths == lengths[0]).all():
        return [struct.pack("!i", lengths[0]), data[offsets[0]:offsets[-1]].reshape(-1, lengths[0])]
    if valid is not None:
        lengths[~valid] = 0
        values = pc.fill_null(values, b"")
    lengths = np.where(lengths == 0, -1, lengths + len(prefix)).astype(">i4")
    if prefix:
        values = pc.if_else(pa.array(lengths > 0), pc.binary_join_element_wise(prefix, values, b""), b"")
    return [lengths.view(np.uint8).reshape(-1, 4), values]


def _fixed_width_binary(matrix: np.ndarray) -> pa.Array:
    """A binary array whose element i is the bytes of row i of an (n, width) array."""
    n, width = matrix.shape
    offsets = np.arange(0, n * width + 1, width, dtype=np.int32)
    return pa.BinaryArray.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets),
                                                        pa.py_buffer(np.ascontiguousarray(matrix))])


def _fixed(values: np.ndarray, valid: np.ndarray | None) -> list[Part]:
    """Fixed-width big-endian values: the length and the bytes, or a Nullable part where some are NULL."""
    n, width = len(values), values.dtype.itemsize
    as_bytes = np.ascontiguousarray(values).view(np.uint8).reshape(n, width)
    if valid is None or valid.all():
        return [struct.pack("!i", width), as_bytes]
    return [Nullable(as_bytes, valid)]


def _per_distinct(column: pa.Array, encode: Callable[[str], bytes]) -> pa.Array:
    """For rare types: each distinct value encoded once in Python (length included), NULL as -1."""
    encoded = pc.dictionary_encode(column)
    fields = pa.array([encode(v) for v in encoded.dictionary.to_pylist()], pa.binary())
    return pc.fill_null(fields.take(encoded.indices), NULL)


def _numeric(text: str) -> bytes:
    """PostgreSQL's numeric send form: ndigits, weight, sign, dscale, then base-10000 digits."""
    sign, digits, exponent = Decimal(text).as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"'{text}' is not a finite number")
    text_digits = "".join(map(str, digits))
    scale = max(0, -exponent)
    text_digits += "0" * max(0, exponent)
    whole, fraction = text_digits[:len(text_digits) - scale] or "0", text_digits[len(text_digits) - scale:]
    whole = whole.zfill(-(-len(whole) // 4) * 4)
    fraction = fraction.ljust(-(-len(fraction) // 4) * 4, "0")
    groups = [int(whole[i:i + 4]) for i in range(0, len(whole), 4)]
    weight = len(groups) - 1
    groups += [int(fraction[i:i + 4]) for i in range(0, len(fraction), 4)]
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight, sign = 0, 0
    return struct.pack(f"!hhHH{len(groups)}H", len(groups), weight, 0x4000 if sign else 0, scale, *groups)
