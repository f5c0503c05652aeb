"""The loader's mechanisms for speed, each kept because a measurement shows it pays for itself; the loader would
be correct without any of them. Figures: a 300,000-row export (100 MiB), this 2-core machine, December 2026.

- KeyRepeats: Arrow's count of the distinct loaded keys, 0.03 s for the file, spares the database's group-by-key
  pass for duplicates (0.32 s) whenever no key repeats, as in most files.
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
import pyarrow.compute as pc
from psycopg.copy import QueuedLibpqWriter


class KeyRepeats:
    """Whether a key may repeat among the rows a file loads: most files have none, and then the database need not
    group the whole load by key to find out. The keys are kept (as one string per row, the columns joined) up to
    MAX_ROWS rows, and Arrow counts the distinct ones; beyond MAX_ROWS the answer is 'maybe' and the database
    decides. A separator inside a value can only make two keys look alike, never two alike ones differ."""

    MAX_ROWS = 2_000_000  # about 30 bytes a row of dossier codes

    def __init__(self, key_indexes):
        self.key_indexes = list(key_indexes)
        self.keys: list[pa.Array] | None = []
        self.rows = 0

    def add(self, columns: list[pa.Array], loaded: np.ndarray) -> None:
        if self.keys is None:
            return
        self.rows += int(loaded.sum())
        if self.rows > self.MAX_ROWS:
            self.keys = None
            return
        mask = pa.array(loaded)
        parts = [columns[i].filter(mask) for i in self.key_indexes]
        self.keys.append(parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f"))

    def may_repeat(self) -> bool:
        if self.keys is None:
            return True
        keys = pa.chunked_array(self.keys, pa.string())
        return len(pc.unique(keys)) < len(keys)


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
