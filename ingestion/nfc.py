"""Which text may change under NFC: a character class for Arrow's regex engine, so that only values
containing one of these characters are normalised (normalising every value costs more than parsing the
file). Built from Python's unicodedata when first imported (0.05 s).

A character is a suspect when it is a combining mark, is not NFC on its own, or can be the second half
of a canonical composition (plus the Hangul jamo that compose algorithmically)."""

from __future__ import annotations

import unicodedata

import numpy as np

# Every suspect is U+0300 or above, so its UTF-8 lead byte is 0xCC or above, and none lies in U+1E00-U+1EFF
# (lead 0xE1 then 0xB8-0xBB: the precomposed Vietnamese letters). So a scan of a column's bytes tells which
# columns need the regex at all; tests/test_nfc.py checks both claims against suspects().
SUSPECT_MIN_LEAD = 0xCC


def may_need_nfc(data: np.ndarray) -> bool:
    """Whether these UTF-8 bytes may hold a suspect character: whole-array counts, no per-byte index."""
    high = np.count_nonzero(data >= SUSPECT_MIN_LEAD)
    if not high:
        return False
    vietnamese = np.count_nonzero((data[:-1] == 0xE1) & (data[1:] - np.uint8(0xB8) <= 3))
    return high != vietnamese


def _escape(cp: int) -> str:
    return "\\x{" + format(cp, "x") + "}"


def suspect_code_points(end: int = 0x110000) -> list[int]:
    need = set()
    for cp in range(end):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        char = chr(cp)
        if unicodedata.combining(char) or not unicodedata.is_normalized("NFC", char):
            need.add(cp)
        decomposition = unicodedata.decomposition(char)
        if decomposition and not decomposition.startswith("<"):
            parts = decomposition.split()
            if len(parts) == 2:
                need.add(int(parts[1], 16))
    need.update(range(0x1161, 0x1176))
    need.update(range(0x11A8, 0x11C3))
    return sorted(need)


def suspects(end: int = 0x110000) -> str:
    ordered = suspect_code_points(end)
    ranges = []
    start = prev = ordered[0]
    for cp in ordered[1:]:
        if cp != prev + 1:
            ranges.append((start, prev))
            start = cp
        prev = cp
    ranges.append((start, prev))
    return "[" + "".join(_escape(a) if a == b else _escape(a) + "-" + _escape(b) for a, b in ranges) + "]"


# Every suspect lies in planes 0-2 (tests/test_nfc.py checks against the whole range): a third of the scan.
NFC_SUSPECTS = suspects(0x30000)
