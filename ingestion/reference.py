"""Reference data kept by the office (spec/sources.md §4): read from REFORMWH_REFERENCE_DIR (default:
the shipped sample province in reference_data/), checked, and loaded into schema `reference` by
`reformwh build`. The loader also reads the units registry directly, to validate unit codes."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg

REFERENCE_FILES: dict[str, dict[str, str]] = {
    # file stem -> column -> SQL type
    "units": {
        "unit_code": "text not null", "unit_name": "text not null", "unit_level": "text not null",
        "parent_code": "text", "valid_from": "date not null", "valid_to": "date",
        "successor_code": "text", "has_procedures": "boolean not null",
    },
    "holidays": {"date": "date not null", "name": "text"},
    "reporting_calendar": {"period_key": "text not null", "unit_level": "text not null",
                           "submission_deadline": "date not null"},
    "criteria": {
        "year": "integer not null", "unit_level": "text not null", "criterion_code": "text not null",
        "parent_code": "text", "area_code": "text", "area_name": "text", "criterion_name": "text",
        "min_points": "numeric", "max_points": "numeric", "evidence_required": "boolean",
    },
    "indicators": {"year": "integer not null", "unit_level": "text not null", "indicator_code": "text not null",
                   "indicator_name": "text", "evidence_required": "boolean"},
}
# Each file's key: a repeated key would be joined twice downstream (a criterion's points counted double), so the
# file is refused before dbt runs; dbt's unique tests on the staging models say the same of what reaches it.
REFERENCE_KEYS: dict[str, tuple[str, ...]] = {
    "units": ("unit_code", "valid_from"),
    "holidays": ("date",),
    "reporting_calendar": ("period_key", "unit_level"),
    "criteria": ("year", "unit_level", "criterion_code"),
    "indicators": ("year", "unit_level", "indicator_code"),
}
REQUIRED_FILES = ("units", "holidays", "reporting_calendar")
UNIT_LEVELS = {"province", "department", "district", "commune"}


def validation_fingerprint(reference_dir: Path) -> str:
    """A hash of what decides whether a row passes validation: the reference files and the loader's code. A
    quarantined row validated under the same fingerprint would be refused again, so a build re-validates only the
    rows whose fingerprint differs (Loader.reprocess_quarantine)."""
    digest = hashlib.sha256()
    code = sorted(Path(__file__).parent.glob("*.py"))
    for path in sorted(p for p in reference_dir.iterdir() if p.is_file()) + code:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class ReferenceError(Exception):
    """The reference folder cannot be used; the message names the file, line and problem."""


def read_reference_file(reference_dir: Path, stem: str) -> list[dict[str, str]]:
    """One reference file's rows, its headers and keys checked (and the units registry's intervals); an
    optional file that is not there has none."""
    path = reference_dir / f"{stem}.csv"
    if not path.exists():
        if stem in REQUIRED_FILES:
            raise ReferenceError(f"{path}: missing (REFORMWH_REFERENCE_DIR={reference_dir})")
        return []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [(reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items() if k}) for row in reader]
        headers = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REFERENCE_FILES[stem] if c not in headers]
    if missing:
        raise ReferenceError(f"{path}: line 1: column(s) {', '.join(missing)} missing")
    _check_keys(path, REFERENCE_KEYS[stem], rows)
    if stem == "units":
        _check_units(path, rows)
    return [row for _, row in rows]


def read_reference(reference_dir: Path) -> dict[str, list[dict[str, str]]]:
    """All reference files, with headers and the units registry checked."""
    return {stem: read_reference_file(reference_dir, stem) for stem in REFERENCE_FILES}


def _check_keys(path: Path, key: tuple[str, ...], rows: list[tuple[int, dict[str, str]]]) -> None:
    """Refuse a file in which a key repeats, naming every repeated key and its lines."""
    lines: dict[tuple[str, ...], list[int]] = {}
    for line, row in rows:
        lines.setdefault(tuple(row[c] for c in key), []).append(line)
    repeats = [(k, found) for k, found in lines.items() if len(found) > 1]
    if repeats:
        described = "; ".join(
            f"{', '.join(f'{c}={v}' for c, v in zip(key, k, strict=True))} on lines {', '.join(map(str, found))}"
            for k, found in repeats
        )
        raise ReferenceError(f"{path}: the key ({', '.join(key)}) repeats: {described}")


def _check_units(path: Path, rows: list[tuple[int, dict[str, str]]]) -> None:
    intervals: dict[str, list[tuple[date, date, int]]] = {}
    for line, row in rows:
        if row["unit_level"] not in UNIT_LEVELS:
            raise ReferenceError(
                f"{path}: line {line}: unit_level '{row['unit_level']}' is not one of {sorted(UNIT_LEVELS)}"
            )
        try:
            start = date.fromisoformat(row["valid_from"])
            end = date.fromisoformat(row["valid_to"]) if row["valid_to"] else date.max
        except ValueError as exc:
            raise ReferenceError(f"{path}: line {line}: {exc}") from None
        for other_start, other_end, other_line in intervals.get(row["unit_code"], []):
            if start <= other_end and other_start <= end:
                raise ReferenceError(
                    f"{path}: line {line}: validity of {row['unit_code']} overlaps line {other_line}"
                )
        intervals.setdefault(row["unit_code"], []).append((start, end, line))
    for line, row in rows:
        for column in ("successor_code", "parent_code"):
            if row[column] and row[column] not in intervals:
                raise ReferenceError(f"{path}: line {line}: {column} '{row[column]}' is not a unit of the registry")


@dataclass
class UnitRegistry:
    """Unit codes and their validity intervals, for validating exports."""

    intervals: dict[str, list[tuple[str, str]]]
    levels: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)

    @classmethod
    def from_dir(cls, reference_dir: Path) -> UnitRegistry:
        rows = read_reference_file(reference_dir, "units")
        intervals: dict[str, list[tuple[str, str]]] = {}
        levels: dict[str, list[tuple[str, str, str]]] = {}
        for row in rows:
            span = (row["valid_from"], row["valid_to"] or "9999-12-31")
            intervals.setdefault(row["unit_code"], []).append(span)
            levels.setdefault(row["unit_code"], []).append((*span, row["unit_level"]))
        return cls(intervals, levels)

    def level(self, code: str, on_date: str) -> str | None:
        """The unit's level on that day, else of its last version before it (a unit that has just ceased)."""
        versions = sorted(self.levels.get(code, []))
        on = [level for start, end, level in versions if start <= on_date <= end]
        before = [level for start, _, level in versions if start <= on_date]
        return (on or before or [None])[-1]

    def problem(self, code: str, on_date: str | None) -> str | None:
        versions = self.intervals.get(code)
        if versions is None:
            return "is not in the units registry"
        if on_date is None or any(start <= on_date <= end for start, end in versions):
            return None
        spans = ", ".join(f"{s} – {'' if e == '9999-12-31' else e}" for s, e in versions)
        return f"is not valid on {on_date} (valid {spans})"


@dataclass
class Catalog:
    """The criteria and indicator catalogs (per year and unit level), for validating self-reports."""

    criteria: dict[tuple[int, str, str], dict[str, str]]
    indicators: dict[tuple[int, str, str], dict[str, str]]

    @classmethod
    def from_dir(cls, reference_dir: Path) -> Catalog:
        criteria, indicators = (read_reference_file(reference_dir, stem) for stem in ("criteria", "indicators"))
        return cls({(int(r["year"]), r["unit_level"], r["criterion_code"]): r for r in criteria},
                   {(int(r["year"]), r["unit_level"], r["indicator_code"]): r for r in indicators})


def load_reference(conn: psycopg.Connection, reference_dir: Path) -> dict[str, int]:
    """Replace schema `reference` with the folder's files, in one transaction; returns row counts."""
    tables = read_reference(reference_dir)
    counts = {}
    with conn.transaction():
        conn.execute("create schema if not exists reference")
        for stem, columns in REFERENCE_FILES.items():
            ddl = ", ".join(f'"{c}" {t}' for c, t in columns.items())
            # Truncate rather than drop: dbt's staging views and the roles' grants depend on these tables.
            conn.execute(f"create table if not exists reference.{stem} ({ddl})")
            conn.execute(f"truncate reference.{stem}")
            names = ", ".join(f'"{c}"' for c in columns)
            with conn.cursor().copy(f"copy reference.{stem} ({names}) from stdin") as copy:
                for row in tables[stem]:
                    copy.write_row([row.get(c) or None for c in columns])
            counts[stem] = len(tables[stem])
    return counts
