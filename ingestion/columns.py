"""NumPy views of Arrow string columns, for the few steps that work on the bytes of every value (fixed-width
timestamps, the binary COPY encoder): one vectorised pass instead of a chain of string kernels."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def string_buffers(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data) of a string or binary array, without copying: value i is data[offsets[i]:offsets[i+1]]."""
    n = len(column)
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32, count=n + 1, offset=4 * column.offset)
    data = column.buffers()[2]
    return offsets, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8))


def fixed_width_chars(column: pa.Array, rows: np.ndarray, width: int) -> np.ndarray:
    """The bytes of the given rows, all `width` long, as an (len(rows), width) array."""
    offsets, data = string_buffers(column)
    return data[offsets[:-1][rows, None] + np.arange(width)]


def string_array(chars: np.ndarray, valid: np.ndarray) -> pa.Array:
    """A string array from an (n, width) array of bytes: row i is chars[i] where valid[i], else null."""
    n, width = chars.shape
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.where(valid, width, 0), out=offsets[1:])
    data = np.ascontiguousarray(chars[valid]).reshape(-1)
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data), bitmap)
