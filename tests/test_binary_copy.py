"""The binary COPY stream (pgpq) against the real server: what goes in comes back out, type by type."""

from __future__ import annotations

import psycopg
import pyarrow as pa

from ingestion.binary_copy import SIGNATURE, TRAILER, encode_rows

COLUMNS = [
    ("t", "text", pa.array(["Nguyễn Văn Ạ", "", None, "a,\"b\"\n\\c\t"])),
    # all values of one width (sent as a fixed-width part), cut from a longer array as a batch filter leaves it
    ("c", "text", pa.array(["x", "000.00.08.H99", "000.00.31.H99", "Phường Ái", "H99.27.10.100"])[1:]),
    ("j", "jsonb", pa.array(['{"Ghi chú": "Đã nhận"}', None, "", "[1, 2]"])),
    ("s", "smallint", pa.array([1, None, -32768, 32767], pa.int16())),
    ("i", "integer", pa.array([0, 2_147_483_647, None, -5], pa.int32())),
    ("b", "bigint", pa.array([None, 9_000_000_000_000, -1, 0], pa.int64())),
    ("f", "boolean", pa.array([True, False, None, True])),
    ("ts", "timestamp", pa.array(["2025-06-14 23:59:59", "1999-12-31 00:00:01", None, "2024-02-29 12:00:00"])),
    ("tt", "timestamp", pa.array(["2025-06-14 23:59:59", None, "0001-01-01 00:00:00", "2024-02-29 12:00:00"]
                                 ).cast(pa.timestamp("us"))),
    ("d", "date", pa.array(["2000-01-01", None, "1900-03-01", "2027-12-31"])),
    ("n", "numeric", pa.array(["12.5", "-0.25", None, "10000.0001"])),
    ("k", "text", pa.scalar("ho_so_20251220.csv")),
    ("e", "timestamp", pa.scalar("2025-12-20 18:00:00")),
    ("l", "bigint", pa.scalar(42, pa.int64())),
]
EXPECTED = [
    ("Nguyễn Văn Ạ", "000.00.08.H99", '{"Ghi chú": "Đã nhận"}', "1", "0", None, "true", "2025-06-14 23:59:59",
     "2025-06-14 23:59:59", "2000-01-01", "12.5", "ho_so_20251220.csv", "2025-12-20 18:00:00", "42"),
    (None, "000.00.31.H99", None, None, "2147483647", "9000000000000", "false", "1999-12-31 00:00:01", None,
     None, "-0.25", "ho_so_20251220.csv", "2025-12-20 18:00:00", "42"),
    (None, "Phường Ái", None, "-32768", None, "-1", None, None, "0001-01-01 00:00:00", "1900-03-01", None,
     "ho_so_20251220.csv", "2025-12-20 18:00:00", "42"),
    ('a,"b"\n\\c\t', "H99.27.10.100", "[1, 2]", "32767", "-5", "0", "true", "2024-02-29 12:00:00",
     "2024-02-29 12:00:00", "2027-12-31", "10000.0001", "ho_so_20251220.csv", "2025-12-20 18:00:00", "42"),
]


def test_every_type_round_trips_through_the_server(settings):
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("create table copied (row_no serial, " + ", ".join(f"{n} {t}" for n, t, _ in COLUMNS) + ")")
        stream = encode_rows([c for _, _, c in COLUMNS], [t for _, t, _ in COLUMNS])
        names = ", ".join(n for n, _, _ in COLUMNS)
        with conn.cursor().copy(f"copy copied ({names}) from stdin (format binary)") as copy:
            copy.write(SIGNATURE)
            copy.write(stream)
            copy.write(TRAILER)
        rows = conn.execute(f"select {', '.join(f'{n}::text' for n, _, _ in COLUMNS)} from copied order by row_no"
                            ).fetchall()
    assert rows == EXPECTED


def test_no_rows_is_an_empty_stream():
    assert encode_rows([pa.array([], pa.string()), pa.scalar(1, pa.int64())], ["text", "bigint"]).size == 0


def test_values_with_nulls_side_by_side_round_trip(settings):
    """Fixed-width values with NULLs next to each other, of widths that are all multiples of four (here) and
    not (above), with empty and NULL text beside them."""
    columns = [
        ("a", "timestamp", pa.array(["2025-01-02 03:04:05", None, None, "2024-02-29 00:00:00", None])),
        ("b", "date", pa.array([None, "2025-06-30", None, "2025-07-01", None])),
        ("c", "bigint", pa.array([7, None, None, -7, 1 << 40], pa.int64())),
        ("d", "integer", pa.array([None, 5, None, None, -1], pa.int32())),
        ("e", "text", pa.array(["x", "yy", "", "zzz", None])),
    ]
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("create table aligned (row_no serial, " + ", ".join(f"{n} {t}" for n, t, _ in columns) + ")")
        with conn.cursor().copy(f"copy aligned ({', '.join(n for n, _, _ in columns)}) from stdin (format binary)"
                                ) as copy:
            copy.write(SIGNATURE + bytes(encode_rows([c for _, _, c in columns], [t for _, t, _ in columns])) + TRAILER)
        rows = conn.execute("select a::text, b::text, c, d, e from aligned order by row_no").fetchall()
    assert rows == [("2025-01-02 03:04:05", None, 7, None, "x"), (None, "2025-06-30", None, 5, "yy"),
                    (None, None, None, None, None), ("2024-02-29 00:00:00", "2025-07-01", -7, None, "zzz"),
                    (None, None, 1 << 40, -1, None)]


def test_constants_that_compare_equal_but_encode_apart_are_not_confused():
    """A constant keeps its numeric scale: 1.50 and 1.5 are equal Decimals with different scales."""
    from decimal import Decimal

    ones = pa.array([1], pa.int32())
    wide, narrow = (bytes(encode_rows([ones, pa.scalar(Decimal(v))], ["integer", "numeric"])) for v in ("1.50", "1.5"))
    assert wide != narrow and wide[-2:] == narrow[-2:] == b"\x13\x88"  # the base-10000 digit 5000 either way
