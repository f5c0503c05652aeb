"""PostgreSQL's binary COPY format for the raw tables, encoded by pgpq (Arrow -> binary COPY, in Rust).

Why binary: from CSV the server parses every value again (timestamps are the dearest); from binary it only
copies values in (bench/bench_ingest.py). Raw's conventions are applied with Arrow compute before encoding:
empty text is stored as NULL (as FORCE_NULL did in CSV), a lineage value given once is the same on every row,
and text is cast to its column's type (ISO timestamps and dates, decimal text).
"""

from __future__ import annotations

import numpy as np
import pgpq
import pyarrow as pa
import pyarrow.compute as pc
from pgpq import encoders, schema

ARROW_TYPE = {"text": pa.string(), "jsonb": pa.string(), "smallint": pa.int16(), "integer": pa.int32(),
              "bigint": pa.int64(), "boolean": pa.bool_(), "timestamp": pa.timestamp("us"), "date": pa.date32()}
_HEADER_ENCODER = pgpq.ArrowToPostgresBinaryEncoder(pa.schema([("_", pa.int32())]))
SIGNATURE = _HEADER_ENCODER.write_header()  # before the first tuple of a COPY
TRAILER = _HEADER_ENCODER.finish()  # after the last
NUMERIC_PRECISION = 38  # Arrow's decimal128; parsing.decimal allows at most 15 + 20 digits


def sql_type_name(declaration: str) -> str:
    """'timestamp not null' -> 'timestamp'."""
    return declaration.split(" not null")[0].split(" default ")[0].strip()


def encode_rows(columns: list[pa.Array | pa.Scalar], sql_types: list[str]) -> pa.Buffer:
    """The COPY tuples of these columns (arrays of equal length, or a scalar repeated on every row), each
    written as its SQL type. Text and jsonb: strings, '' stored as NULL; timestamp: Arrow timestamps or ISO
    text 'YYYY-MM-DD HH:MM:SS'; date: Arrow dates or ISO text; numbers and booleans: Arrow integers and
    booleans; numeric: decimal text or Arrow decimals, each value keeping its own scale (2.5, 2.50)."""
    n = next((len(c) for c in columns if isinstance(c, pa.Array)), 0)
    if n == 0:
        return pa.py_buffer(b"")
    arrays = [_as_column_type(c, t, n) for c, t in zip(columns, sql_types, strict=True)]
    numeric = [i for i, t in enumerate(sql_types) if t == "numeric"]
    if not numeric:
        return pa.py_buffer(_tuples(arrays, sql_types))
    # Arrow's decimal type has one scale per column, PostgreSQL's numeric one per value: rows are encoded in
    # runs of equal scales, each by an encoder of those scales.
    scales = np.column_stack([_scales(arrays[i]) for i in numeric])
    starts = [0, *(np.flatnonzero((scales[1:] != scales[:-1]).any(axis=1)) + 1).tolist(), n]
    stream = []
    for start, stop in zip(starts[:-1], starts[1:], strict=True):
        run = [a.slice(start, stop - start) for a in arrays]
        for i, scale in zip(numeric, scales[start], strict=True):
            run[i] = run[i].cast(pa.decimal128(NUMERIC_PRECISION, int(scale)))
        stream.append(_tuples(run, sql_types))
    return pa.py_buffer(b"".join(stream))


def _as_column_type(column: pa.Array | pa.Scalar, sql_type: str, n: int) -> pa.Array:
    if sql_type == "numeric":  # cast per run of equal scales (encode_rows)
        target = column.type if pa.types.is_decimal(column.type) else pa.string()
    elif sql_type in ARROW_TYPE:
        target = ARROW_TYPE[sql_type]
    else:
        raise ValueError(f"no binary COPY encoding for SQL type '{sql_type}'")
    if column.type != target:
        column = column.cast(target)
    if target == pa.string():  # '' is NULL in raw
        empty = pc.equal(column, "")
        column = pa.scalar(None, target) if isinstance(column, pa.Scalar) and empty.as_py() else \
            column if isinstance(column, pa.Scalar) else pc.if_else(empty, pa.scalar(None, target), column)
    return pa.repeat(column, n) if isinstance(column, pa.Scalar) else column


def _scales(column: pa.Array) -> np.ndarray:
    """Digits after the decimal point of each value; a NULL takes its neighbour's, so as not to cut a run."""
    if pa.types.is_decimal(column.type):
        return np.full(len(column), column.type.scale)
    point = pc.find_substring(column, ".")
    scale = pc.if_else(pc.less(point, 0), 0, pc.subtract(pc.subtract(pc.utf8_length(column), point), 1))
    return pc.fill_null(pc.fill_null_backward(pc.fill_null_forward(scale)), 0).to_numpy(zero_copy_only=False)


def _tuples(arrays: list[pa.Array], sql_types: list[str]) -> bytes:
    """The tuples of these columns, by pgpq; jsonb declared as such (pgpq would send strings as text). pgpq
    keeps small outputs until it finishes a stream: finish() gives them, less the trailer."""
    batch = pa.record_batch(arrays, names=[f"c{i}" for i in range(len(arrays))])
    builders = {field.name: encoders.StringEncoderBuilder.new_with_output(field, schema.Jsonb()) if sql_type == "jsonb"
                else pgpq.ArrowToPostgresBinaryEncoder.infer_encoder(field)
                for field, sql_type in zip(batch.schema, sql_types, strict=True)}
    encoder = pgpq.ArrowToPostgresBinaryEncoder.new_with_encoders(batch.schema, builders)
    encoder.write_header()  # the stream's header is written once, by the caller (SIGNATURE)
    return encoder.write_batch(batch) + encoder.finish()[:-len(TRAILER)]
