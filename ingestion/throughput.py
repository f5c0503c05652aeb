"""The loader's mechanisms for speed, each kept because a measurement shows it pays for itself; the loader would
be correct without any of them. Figures: a 300,000-row export (100 MiB), this 2-core machine, December 2026.

- KeyRepeats: a 64-bit hash of each loaded key, 0.013 s for the file, spares the database's group-by-key pass
  for duplicates (0.32 s) whenever no two hashes match, as in most files.
- HASHER: a file that cannot have been loaded already (no loaded file of its size) is hashed while it loads
  instead of before (the hash alone takes 0.10 s warm; loads 0.1-0.25 s faster, best and median of six).
- BoundedQueueWriter: psycopg's COPY writer thread, with a short queue so memory stays bounded.

A read-ahead thread (the next blocks read and validated while this one sent) went: with it, loads were no
faster (median 3.68 s against 3.46 s without, best 2.25 s against 2.28 s) and took 0.2 s more CPU.
"""

from __future__ import annotations

import hashlib
import queue
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
from psycopg.copy import QueuedLibpqWriter

from ingestion.columns import string_buffers


class KeyRepeats:
    """Whether a key may repeat among the rows a file loads, from a 64-bit hash of each key: most files have
    none, and then the database need not group the whole load by key to find out. 8 bytes a row, up to
    MAX_ROWS rows; beyond that, or when two hashes match, the answer is 'maybe' and the database decides."""

    MAX_ROWS = 8_000_000

    def __init__(self, key_indexes):
        self.key_indexes = list(key_indexes)
        self.hashes: list[np.ndarray] | None = []
        self.rows_hashed = 0

    def add(self, columns: list[pa.Array], loaded: np.ndarray) -> None:
        if self.hashes is None:
            return
        self.rows_hashed += int(loaded.sum())
        if self.rows_hashed > self.MAX_ROWS:
            self.hashes = None
            return
        mask = pa.array(loaded)
        combined = None
        for i in self.key_indexes:
            hashes = _string_hashes(columns[i].filter(mask))
            combined = hashes if combined is None else combined * _GOLDEN ^ hashes
        self.hashes.append(combined.view(np.int64))

    def may_repeat(self) -> bool:
        if self.hashes is None:
            return True
        hashes = np.sort(np.concatenate(self.hashes)) if self.hashes else np.zeros(0, dtype=np.int64)
        return bool((hashes[1:] == hashes[:-1]).any())


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # odd, so multiplying by it loses no bits


def _string_hashes(column: pa.Array) -> np.ndarray:
    """A 64-bit hash (uint64) of each value, eight bytes at a time with NumPy; it depends on the value alone,
    not on the others in the column."""
    offsets, data = string_buffers(column)
    lengths = np.diff(offsets)
    width = int(lengths.max()) if lengths.size else 0
    uniform = bool(width) and (lengths == width).all()  # the usual case: dossier codes are all one width
    padded = np.zeros((len(column), -(-width // 8) * 8), dtype=np.uint8)
    if uniform:
        padded[:, :width] = data[offsets[0]:offsets[-1]].reshape(-1, width)
    elif width:
        rows = np.repeat(np.arange(len(column)), lengths)
        padded[rows, np.arange(rows.size) - np.repeat(offsets[:-1] - offsets[0], lengths)] = \
            data[offsets[0]:offsets[-1]]
    hashes = lengths.astype(np.uint64)
    for i, word in enumerate(padded.view(np.uint64).T):
        mixed = (hashes ^ word) * _GOLDEN
        mixed ^= mixed >> np.uint64(29)
        hashes = mixed if uniform else np.where(lengths > 8 * i, mixed, hashes)
    return hashes


# Hashes files while they load (hashlib lets go of the GIL on large blocks).
HASHER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="reformwh-hash")


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class BoundedQueueWriter(QueuedLibpqWriter):
    """psycopg's threaded COPY writer with a short queue, so a slow server cannot make the loader
    buffer the file in memory (psycopg's default queue holds up to 128 MiB)."""

    def __init__(self, cursor):
        super().__init__(cursor)
        self._queue = queue.Queue(maxsize=32)
