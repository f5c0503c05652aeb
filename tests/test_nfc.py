"""Only values that may change under NFC are normalised: the list of suspect characters must be complete."""

from __future__ import annotations

import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.nfc import NFC_SUSPECTS, may_need_nfc, suspect_code_points, suspects
from ingestion.readers import clean_column


def test_the_committed_class_matches_this_pythons_unicode_data():
    assert suspects() == NFC_SUSPECTS


def test_clean_gives_what_full_normalisation_gives():
    words = ["Đất đai", "Hộ tịch", "Nguyễn Văn Ánh", "Ω", "Å", "한국", "ắ", " x ", "Lý lịch tư pháp", "plain"]
    values = words + [unicodedata.normalize(form, w) for form in ("NFD", "NFKD") for w in words]
    cleaned = clean_column(pa.array(values)).to_pylist()
    assert cleaned == [unicodedata.normalize("NFC", v).strip() for v in values]


def test_the_byte_scan_flags_every_suspect():
    for cp in suspect_code_points():
        assert may_need_nfc(np.frombuffer(chr(cp).encode(), dtype=np.uint8)), hex(cp)
    vietnamese = "Nguyễn Thị Hồng Nhung, Ủy ban nhân dân xã Đắk Hà"
    assert not may_need_nfc(np.frombuffer(vietnamese.encode(), dtype=np.uint8))


def test_every_whitespace_character_is_below_the_scanned_range():
    chars = [chr(c) for c in range(0x3001, 0x110000) if not 0xD800 <= c <= 0xDFFF]
    assert "" not in pc.utf8_trim_whitespace(pa.array(chars)).to_pylist()


def test_trimming_finds_every_kind_of_surrounding_space():
    values = ["\u00a0Hộ tịch\u3000", "\tx\r\n", "Lý lịch\u2003", "\u1680a", "ễ", "a b", "", "  "]
    assert clean_column(pa.array(values)).to_pylist() == [v.strip() for v in values]


def test_trimming_reads_the_right_bytes_around_empty_values_and_in_slices():
    values = ["", " a", "", "b\u00a0", None, "c", ""]
    expected = ["" if v is None else v.strip() for v in values]
    assert clean_column(pa.array(values)).to_pylist() == expected
    assert clean_column(pa.array(["x "] + values + [" y"])[1:-1]).to_pylist() == expected
    assert clean_column(pa.array(["", "", ""])).to_pylist() == ["", "", ""]


def test_trimming_matches_arrow_for_every_space_and_leaves_vietnamese_edges_alone():
    chars = [chr(c) for c in range(0x3001) if not 0xD800 <= c <= 0xDFFF]
    spaces = [c for c, rest in zip(chars, pc.utf8_trim_whitespace(pa.array(chars)).to_pylist(), strict=True)
              if rest == ""]
    values = [v for w in spaces for v in (f"{w}Ủy ban{w}", f"Hà{w}", f"{w}ầ", w)]
    values += ["Ủy ban nhân dân", "Hà", "Ấp Bình Hòa", "ờ", "ạ", "Đà"]  # edge bytes shared with spaces
    assert clean_column(pa.array(values)).to_pylist() == pc.utf8_trim_whitespace(pa.array(values)).to_pylist()
