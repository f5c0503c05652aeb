"""Validation of a batch of records: parse every value and apply the row rules of spec/sources.md §5.

Column-wise, so a million-row export validates at COPY speed: dates are parsed by Arrow (ingestion/dates.py),
other values once per distinct value (exports repeat codes and statuses endlessly), and the row rules are
vectorised comparisons. The result is, per row, either the parsed values to load or the reasons to quarantine
it. First loads and the re-processing of quarantined rows go through this same code.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion import binary_copy
from ingestion.columns import parse_each_distinct, string_buffers
from ingestion.contracts import (
    DOCUMENTS,
    DOSSIERS,
    EVIDENCE_FILES,
    EVIDENCE_ITEMS,
    FIGURES,
    PARSED_SQL_TYPE,
    SCORES,
    SUBMISSIONS,
    TASKS,
    Contract,
)
from ingestion.dates import DATE_KINDS, TIMESTAMP, has_time
from ingestion.dates import parse_column as parse_dates
from ingestion.parsing import PARSERS
from ingestion.reference import Catalog, UnitRegistry

ARROW_TYPE = {**binary_copy.ARROW_TYPE, "numeric": pa.string()}  # of parsed values: decimals stay exact text
EVENT_FIELDS = ("received_at", "finished_at", "returned_at", "refused_at")


@dataclass
class Context:
    """What validation needs to know besides the records."""

    units: UnitRegistry
    extracted_at: str  # ISO 'YYYY-MM-DD HH:MM:SS', local time
    pii_hash_key: bytes
    catalog: Catalog | None = None  # self-reports only


@dataclass
class Checked:
    parsed: dict[str, pa.Array]  # by field name; Arrow timestamps for times, Arrow dates for dates
    bad: np.ndarray  # bool per row
    reasons: dict[int, list[str]]  # row index -> reasons, for the bad rows
    id_hash: pa.Array | None = None  # keyed hash of the applicant's ID number, where the entity has one


def _np(mask: pa.Array) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


_EPOCH = date(1970, 1, 1)


class Problems:
    """Collects (mask, message) pairs and turns them into reasons for the failing rows only."""

    def __init__(self, n: int):
        self.n = n
        self.items: list[tuple[np.ndarray, Callable[[int], str]]] = []

    def add(self, mask, message: Callable[[int], str]) -> None:
        if isinstance(mask, np.ndarray):
            if mask.any():
                self.items.append((mask, message))
        elif pc.any(mask).as_py():  # on Arrow's packed bits: most rules fail no row
            self.items.append((_np(mask), message))

    def result(self, parsed: dict[str, pa.Array]) -> Checked:
        bad = np.zeros(self.n, dtype=bool)
        for mask, _ in self.items:
            bad |= mask
        reasons = {int(i): [message(int(i)) for mask, message in self.items if mask[i]] for i in np.flatnonzero(bad)}
        return Checked(parsed, bad, reasons)


def _format_characters(text: str) -> str:
    return ", ".join(sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cf"}))


class BatchValidator:
    def __init__(self, contract: Contract, context: Context):
        self.contract = contract
        self.context = context
        self.fields = contract.fields
        self.index = {f.name: i for i, f in enumerate(contract.fields)}
        self.row_rules = ROW_RULES[contract.entity]
        self._unit_day_spans: dict[str, list[tuple[int, int]] | None] = {}

    def header(self, name: str) -> str:
        return self.fields[self.index[name]].header

    def check(self, columns: list[pa.Array]) -> Checked:
        n = len(columns[0]) if columns else 0
        problems = Problems(n)
        text = {f.name: columns[i] for i, f in enumerate(self.fields)}
        for f in self.fields:
            if f.required == "file":
                problems.add(pc.equal(text[f.name], ""), lambda i, h=f.header: f"{h}: required value is empty")
        for name in self.contract.key:
            self._invisible_characters(text[name], self.header(name), problems)
        parsed: dict[str, pa.Array] = {}
        for f in self.fields:
            if not f.parsed:
                continue
            if f.kind in DATE_KINDS:
                values, errors = parse_dates(text[f.name], f.kind)
            else:
                values, errors = parse_each_distinct(text[f.name], PARSERS[f.kind],
                                                     ARROW_TYPE[PARSED_SQL_TYPE[f.kind]])
            parsed[f.name] = values
            problems.add(
                pc.is_valid(errors),
                lambda i, h=f.header, t=text[f.name], e=errors: f"{h}: '{t[i].as_py()}' {e[i].as_py()}",
            )
        self.row_rules(self, text, parsed, problems)
        checked = problems.result(parsed)
        if "applicant_id_number" in text:
            checked.id_hash = self.keyed_hashes(text["applicant_id_number"])
        return checked

    @staticmethod
    def _invisible_characters(column: pa.Array, header: str, problems: Problems) -> None:
        """A key with a format character inside it (a zero-width space, a BOM, a direction mark: category Cf)
        would load as a second record that looks like the first; those at its ends are already trimmed."""
        offsets, data = string_buffers(column)
        if not data.size or data[offsets[0]:offsets[-1]].max(initial=0) < 0x80:  # ASCII: none can be there
            return
        problems.add(pc.match_substring_regex(column, r"\p{Cf}"),
                     lambda i: f"{header}: holds an invisible format character "
                               f"({_format_characters(column[i].as_py())}); the same code without it is "
                               "another record")

    def unit_day_spans(self, code: str) -> list[tuple[int, int]] | None:
        """A unit code's validity intervals as days since 1970-01-01, None when the registry lacks it."""
        if code not in self._unit_day_spans:
            spans = self.context.units.intervals.get(code)
            self._unit_day_spans[code] = None if spans is None else [
                ((date.fromisoformat(start) - _EPOCH).days, (date.fromisoformat(end) - _EPOCH).days)
                for start, end in spans]
        return self._unit_day_spans[code]

    def per_distinct(self, column: pa.Array, function: Callable[[str], bool]) -> np.ndarray:
        encoded = pc.dictionary_encode(column)
        flags = pa.array([function(v) for v in encoded.dictionary.to_pylist()], pa.bool_())
        return _np(flags.take(encoded.indices))

    def keyed_hashes(self, column: pa.Array) -> pa.Array:
        """Keyed BLAKE2b (16 bytes, as hex) of each non-empty value; null where empty."""
        keyed = hashlib.blake2b(key=self.context.pii_hash_key, digest_size=16)

        def digest(value: bytes) -> str:
            state = keyed.copy()  # a copy of the keyed state costs less than keying a new one
            state.update(value)
            return state.hexdigest()

        return pa.array([digest(v) if v else None for v in column.cast(pa.binary()).to_pylist()], pa.string())


def dossier_rules(v: BatchValidator, text: dict, parsed: dict, problems: Problems) -> None:
    status = parsed["status"]
    received, due = parsed["received_at"], parsed["due_at"]
    is_received = pc.invert(pc.is_in(status, pa.array([1, 3], pa.int16())))
    for name in ("received_at", "due_at"):
        header = v.header(name)
        problems.add(
            pc.and_(is_received, pc.equal(text[name], "")),
            lambda i, h=header: f"{h}: required value is empty (status {status[i].as_py()})",
        )
    unit_valid_on_record_date(v, text, received, problems)
    problems.add(
        pc.less(due, received),
        lambda i: f"{v.header('due_at')}: {due[i].as_py()} is before {v.header('received_at')} {received[i].as_py()}",
    )
    finished, returned, refused = parsed["finished_at"], parsed["returned_at"], parsed["refused_at"]
    completed = pc.is_in(status, pa.array([9, 10], pa.int16()))
    closed = pc.is_in(status, pa.array([7, 8], pa.int16()))
    end = pc.if_else(completed, pc.coalesce(finished, returned),
                     pc.if_else(closed, pc.coalesce(finished, refused), pa.scalar(None, TIMESTAMP)))
    terminal = pc.or_(completed, closed)
    problems.add(
        pc.and_(terminal, pc.is_null(end)),
        lambda i: f"{v.header('status')}: terminal status {status[i].as_py()} without an end date "
                  f"({v.header('finished_at')} / "
                  f"{v.header('returned_at' if status[i].as_py() >= 9 else 'refused_at')})",
    )
    problems.add(
        pc.less(end, received),
        lambda i: f"end of processing {end[i].as_py()} is before {v.header('received_at')} {received[i].as_py()}",
    )
    events_not_after_extraction(v, text, parsed, EVENT_FIELDS, problems)


def unit_valid_on_record_date(v: BatchValidator, text: dict, record_date: pa.Array, problems: Problems) -> None:
    """The unit code must be in the registry and valid on the record's own date (receipt, document date,
    assignment): each distinct code's validity intervals, as day numbers, against every row's day."""
    units = text["unit_code"]
    registry = v.context.units
    encoded = pc.dictionary_encode(units)
    codes = encoded.dictionary.to_pylist()
    spans = [v.unit_day_spans(code) for code in codes]
    width = max([len(s) for s in spans if s] + [1])
    low = np.ones((len(codes), width), dtype=np.int32)  # (1, 0): no day falls in a span that is not there
    high = np.zeros((len(codes), width), dtype=np.int32)
    for k, code_spans in enumerate(spans):
        for j, (start, end) in enumerate(code_spans or []):
            low[k, j], high[k, j] = start, end
    index = encoded.indices.to_numpy(zero_copy_only=False)
    dates = pc.cast(record_date, pa.date32())
    day = pc.fill_null(dates.cast(pa.int32()), 0).to_numpy(zero_copy_only=False)[:, None]
    on_day = ((low[index] <= day) & (day <= high[index])).any(axis=1)
    if dates.null_count:  # no date: only the code's existence is checked
        on_day |= ~dates.is_valid().to_numpy(zero_copy_only=False)
    known = np.array([s is not None for s in spans], dtype=bool)[index]
    given = np.array([bool(c) for c in codes], dtype=bool)[index]

    def message(i: int) -> str:
        day_value = dates[i].as_py()
        return (f"{v.header('unit_code')}: '{units[i].as_py()}' "
                f"{registry.problem(units[i].as_py(), day_value.isoformat() if day_value else None)}")

    problems.add(given & ~(known & on_day), message)


def events_not_after_extraction(v: BatchValidator, text: dict, parsed: dict, names, problems: Problems) -> None:
    extracted = v.context.extracted_at
    extracted_at = pa.scalar(extracted).cast(TIMESTAMP)
    extracted_day = extracted_at.cast(pa.date32())
    for name in names:
        column, header, value = text[name], v.header(name), parsed[name].cast(TIMESTAMP)
        latest = pc.max(value)
        if not latest.is_valid or latest.as_py() <= extracted_at.as_py():  # the usual case: none is after
            continue
        # A date alone is compared by day: "finished 16/06" in an export taken at 08:00 on 16/06 is fine.
        after = pc.if_else(has_time(column), pc.greater(value, extracted_at),
                           pc.greater(pc.cast(value, pa.date32()), extracted_day))
        problems.add(
            after,
            lambda i, c=column, h=header: f"{h}: '{c[i].as_py()}' is after the file's extraction time {extracted}",
        )


def document_rules(v: BatchValidator, text: dict, parsed: dict, problems: Problems) -> None:
    unit_valid_on_record_date(v, text, parsed["document_date"], problems)
    # A document is an event (sent or received) on its date: it cannot postdate the export.
    events_not_after_extraction(v, text, parsed, ["document_date"], problems)


def task_rules(v: BatchValidator, text: dict, parsed: dict, problems: Problems) -> None:
    assigned, completed = parsed["assigned_at"], parsed["completed_at"]
    unit_valid_on_record_date(v, text, assigned, problems)
    events_not_after_extraction(v, text, parsed, ["assigned_at", "completed_at"], problems)
    problems.add(
        pc.less(completed, assigned),
        lambda i: f"{v.header('completed_at')}: {completed[i].as_py()} is before "
                  f"{v.header('assigned_at')} {assigned[i].as_py()}",
    )


def not_in_catalog(v: BatchValidator, text: dict, parsed: dict, problems: Problems, code_field: str,
                   kinds: tuple[str, ...]):
    """Rows whose code is not in its year's catalog for the unit's level (kinds are tried in order: 'indicators',
    'criteria'). Returns the rows' (unit, period, code) keys and the per-distinct lookup of a key's
    (catalog kind, entry), for the rules that need the entry."""
    registry, catalog = v.context.units, v.context.catalog
    keys = pc.binary_join_element_wise(text["unit_code"], text["period_key"], text[code_field], "\x1f")

    def lookup(key: str):
        unit, period, code = key.split("\x1f")
        level = registry.level(unit, "9999-12-31")
        year = int(period[:4]) if period[:4].isdigit() else 0
        for kind in kinds:
            entry = getattr(catalog, kind).get((year, level, code))
            if entry is not None:
                return kind, entry
        return None, {"year": year, "level": level}

    missing = v.per_distinct(keys, lambda k: lookup(k)[0] is None)
    what = " or ".join({"criteria": "criteria", "indicators": "indicator"}[k] for k in kinds)

    def reason(i: int) -> str:
        info = lookup(keys[i].as_py())[1]
        return (f"{v.header(code_field)}: '{text[code_field][i].as_py()}' is not in the {info['year']} {what} "
                f"catalog for {info['level']} units")

    problems.add(missing, reason)
    return keys, lookup


def score_rules(v: BatchValidator, text: dict, parsed: dict, problems: Problems) -> None:
    keys, lookup = not_in_catalog(v, text, parsed, problems, "criterion_code", ("criteria",))
    scores = parsed["self_score"]
    score_and_key = pc.binary_join_element_wise(pc.fill_null(scores, ""), keys, "\x1e")

    def out_of_range(value: str) -> bool:
        score, _, key = value.partition("\x1e")
        kind, entry = lookup(key)
        return bool(score) and kind is not None and not (
            float(entry["min_points"]) <= float(score) <= float(entry["max_points"]))

    def reason(i: int) -> str:
        entry = lookup(keys[i].as_py())[1]
        return (f"{v.header('self_score')}: '{text['self_score'][i].as_py()}' is outside the criterion's range "
                f"[{entry['min_points']}, {entry['max_points']}]")

    problems.add(v.per_distinct(score_and_key, out_of_range), reason)


ROW_RULES = {
    DOSSIERS.entity: dossier_rules, DOCUMENTS.entity: document_rules, TASKS.entity: task_rules,
    SCORES.entity: score_rules,
    FIGURES.entity: partial(not_in_catalog, code_field="indicator_code", kinds=("indicators",)),
    # A code of the indicator catalog is an indicator, otherwise a criterion (domain.md §5).
    EVIDENCE_ITEMS.entity: partial(not_in_catalog, code_field="code", kinds=("indicators", "criteria")),
    # Rows the loader itself writes from a checked submission (its header, its files): no row rules.
    SUBMISSIONS.entity: lambda *_: None, EVIDENCE_FILES.entity: lambda *_: None,
}
