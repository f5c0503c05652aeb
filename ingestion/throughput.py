"""The loader's mechanisms for speed. Each one stays because bench/bench_ingest.py shows that it pays for itself
(the figures are in the docstrings); the loader would be correct without any of them.

- KeyRepeats: a 64-bit hash of each loaded key, so that most files skip the database's group-by-key pass.
- read_ahead: the next blocks are read, cleaned and validated in a helper thread while this one sends.
- BoundedQueueWriter: psycopg's COPY writer thread, with a short queue so memory stays bounded.
- HASHER: a file that cannot have been loaded already is hashed while it loads, not read twice in a row.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Iterator
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


def read_ahead(items: Iterator, depth: int = 2) -> Iterator:
    """`items`, produced in a helper thread up to `depth` ahead: the next blocks are read, cleaned and validated
    while this thread encodes and sends the current one (Arrow and NumPy release the GIL as they work).
    An exception in the helper is raised here; leaving early stops the helper."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    break
            else:
                put((end, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            put((end, exc))
        finally:
            getattr(items, "close", lambda: None)()

    helper = threading.Thread(target=produce, name="reformwh-read-ahead", daemon=True)
    helper.start()
    try:
        while True:
            item, error = handoff.get()
            if item is end:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        helper.join()
