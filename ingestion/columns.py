"""Helpers on Arrow string columns: NumPy views of their bytes, for the few steps that work on the bytes of every
value (cleaning, key hashes), and the parsing of each distinct value once."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def string_buffers(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data) of a string or binary array, without copying: value i is data[offsets[i]:offsets[i+1]]."""
    n = len(column)
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32, count=n + 1, offset=4 * column.offset)
    data = column.buffers()[2]
    return offsets, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8))


def parse_each_distinct(column: pa.Array, parse: Callable[[str], object], arrow_type: pa.DataType
                        ) -> tuple[pa.Array, pa.Array]:
    """Parse each distinct value once (exports repeat dates, codes and statuses endlessly); returns (values, error
    messages) aligned to the column, both null where the text is empty. `parse` raises ValueError with a reason."""
    encoded = pc.dictionary_encode(column)
    values, errors = [], []
    for text in encoded.dictionary.to_pylist():
        value = error = None
        if text:
            try:
                value = parse(text)
            except ValueError as exc:
                error = str(exc)
        values.append(value)
        errors.append(error)
    indices = encoded.indices
    return pa.array(values, arrow_type).take(indices), (
        pa.array(errors, pa.string()).take(indices) if any(errors) else pa.nulls(len(column), pa.string()))
