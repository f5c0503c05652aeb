"""Arrow's column-wise timestamp parsing gives exactly what the per-value parser gives, or leaves the value to it."""

from __future__ import annotations

import pyarrow as pa
import pytest

from ingestion.dates import arrow_timestamps, event_time, receipt_time

VALUES = [
    "02/06/2025 08:15", "02/06/2025 08:15:07", "02/06/2025", "2025-06-02 08:15:00", "2025-06-02", "20250602081500",
    "31/02/2025", "29/02/2024 23:59:59", "29/02/2025", "29/02/2000", "29/02/1900", "02/06/2025 24:00",
    "02/06/2025 23:60", "00/01/2025", "01/00/2025", "2025-13-01", "99999999999999", "31/12/2025 23:59:59",
    # other spellings are left to the per-value parser
    "2/6/2025 8:15", "2025-06-02T08:15:00", "20250602", "xx", "",
]


@pytest.mark.parametrize(("end_of_day", "parse"), [(False, receipt_time), (True, event_time)])
def test_arrow_forms_match_the_reference_parser(end_of_day, parse):
    got = [str(v) if v is not None else None for v in arrow_timestamps(pa.array(VALUES), end_of_day).to_pylist()]
    for text, value in zip(VALUES, got, strict=True):
        try:
            expected = parse(text) if text else None
        except ValueError:
            expected = None
        if value is not None:
            assert value == expected, text
        elif expected is not None:
            assert text in {"2/6/2025 8:15", "2025-06-02T08:15:00", "20250602"}, text
    assert got[:3] == (["2025-06-02 08:15:00", "2025-06-02 08:15:07", "2025-06-02 23:59:59"] if end_of_day else
                       ["2025-06-02 08:15:00", "2025-06-02 08:15:07", "2025-06-02 00:00:00"])


def test_the_unit_rule_agrees_with_the_registry_on_every_boundary():
    """The vectorised unit rule against UnitRegistry.problem, one row per (code, day): the first and last
    day of each interval and the days either side, a code with two intervals, unknown and empty codes, no date."""
    from datetime import date, timedelta

    from ingestion.contracts import DOSSIERS
    from ingestion.reference import UnitRegistry
    from ingestion.validation import TIMESTAMP, BatchValidator, Context, Problems, unit_valid_on_record_date

    registry = UnitRegistry({"A": [("2024-01-01", "2025-06-30")], "B": [("2025-07-01", "9999-12-31")],
                             "C": [("2023-01-01", "2023-12-31"), ("2025-01-01", "2025-03-31")]})
    days = [None]
    for spans in registry.intervals.values():
        for start, end in spans:
            for edge in (start, end):
                if edge != "9999-12-31":
                    edge_day = date.fromisoformat(edge)
                    days += [edge_day - timedelta(days=1), edge_day, edge_day + timedelta(days=1)]
    codes = ["A", "B", "C", "Z", ""]
    rows = [(code, day) for code in codes for day in days]
    validator = BatchValidator(DOSSIERS, Context(registry, "2026-01-01 00:00:00", b"k"))
    problems = Problems(len(rows))
    received = pa.array([f"{d.isoformat()} 12:00:00" if d else None for _, d in rows]).cast(TIMESTAMP)
    unit_valid_on_record_date(validator, {"unit_code": pa.array([c for c, _ in rows])}, received, problems)
    flagged = set()
    for mask, _ in problems.items:
        flagged |= set(map(int, mask.nonzero()[0]))
    expected = {i for i, (code, day) in enumerate(rows)
                if code and registry.problem(code, day.isoformat() if day else None)}
    assert flagged == expected and len(expected) > 10
