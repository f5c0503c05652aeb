"""Only values that may change under NFC are normalised: the list of suspect characters must be complete."""

from __future__ import annotations

import unicodedata

import pyarrow as pa

from ingestion.nfc import NFC_SUSPECTS, suspects
from ingestion.readers import clean_column


def test_the_committed_class_matches_this_pythons_unicode_data():
    assert suspects() == NFC_SUSPECTS


def test_clean_gives_what_full_normalisation_gives():
    words = ["Đất đai", "Hộ tịch", "Nguyễn Văn Ánh", "Ω", "Å", "한국", "ắ", " x ", "Lý lịch tư pháp", "plain"]
    values = words + [unicodedata.normalize(form, w) for form in ("NFD", "NFKD") for w in words]
    cleaned = clean_column(pa.array(values)).to_pylist()
    assert cleaned == [unicodedata.normalize("NFC", v).strip() for v in values]
