"""NumPy views of Arrow string columns, for the few steps that work on the bytes of every value (fixed-width
timestamps, cleaning, the binary COPY encoder, key hashes): one vectorised pass instead of a chain of string
kernels; and the calendar arithmetic of the timestamps."""

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
    """The bytes of the given rows (in order, each exactly `width` long) as an (len(rows), width) array; a view
    of the column's data when the other rows are empty (the usual case: a column written in one form)."""
    offsets, data = string_buffers(column)
    if offsets[-1] - offsets[0] == width * len(rows):  # the rows' bytes are all the bytes there are
        return data[offsets[0]:offsets[-1]].reshape(len(rows), width)
    return data[offsets[:-1][rows, None] + np.arange(width)]


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    year = year - (month <= 2)
    era = np.floor_divide(year, 400)
    year_of_era = year - era * 400
    day_of_year = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    return era * 146097 + year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year - 719468
