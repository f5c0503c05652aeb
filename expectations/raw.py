"""Suites of the raw tables, derived from the input contracts (ingestion.contracts.CONTRACTS).

Every source gets, without code of its own: its contract's columns exist; required values are present
(verbatim and parsed) on every loaded row; each parsed value is in its kind's code set or range; and the
latest version of each record is unique (the rows at a key's newest extraction agree). What is specific
to one source — a code set the parser kind does not imply, a rule across columns — is declared in
SOURCE_RULES below, keyed by raw table: that is the one place to add it. All sources share this module
rather than one module each because their suites are generated from the same contracts.
"""

from __future__ import annotations

import hashlib

from ingestion.contracts import CONTRACTS, Contract
from ingestion.schema import parsed_column, raw_columns

from .rules import HasColumns, NotNull, Range, RowRule, Suite, ValueSet, applicable

# Code sets and ranges implied by a parser kind (ingestion/parsing.py), for every field of that kind.
# Stated here from the spec (sources.md), independently of the parser, so a parser change that lets a
# wrong code through is caught.
KIND_RULES = {
    "channel": lambda c: ValueSet(c, (1, 2, 3)),
    "dossier_status": lambda c: ValueSet(c, tuple(range(1, 11))),
    "payment": lambda c: ValueSet(c, (0, 1, 2)),
    "service_level": lambda c: ValueSet(c, ("full", "partial")),
    "rating": lambda c: ValueSet(c, ("very_satisfied", "satisfied", "unsatisfied")),
    "amount": lambda c: Range(c, minimum=0),
    "count": lambda c: Range(c, minimum=0),
}

# Rules of one source's table beyond its kinds (spec/sources.md). Add a new source's code sets here.
SOURCE_RULES: dict[str, list] = {
    "raw.one_stop_shop__dossiers": [
        RowRule(
            "received_at and due_at are present unless the status is 1 or 3",
            "status_parsed not in (1, 3) and (received_at_parsed is null or due_at_parsed is null)",
            show=("dossier_code", "source_file", "source_line"),
        ),
        RowRule(
            "a finished dossier (status 7-10) has its end date",
            "(status_parsed in (9, 10) and finished_at_parsed is null and returned_at_parsed is null) "
            "or (status_parsed in (7, 8) and finished_at_parsed is null and refused_at_parsed is null)",
            show=("dossier_code", "source_file", "source_line"),
        ),
    ],
}


def contract_suite(contract: Contract, table_columns: set[str], loads: list[int] | None = None) -> Suite:
    """The suite of one raw table, over all its rows or, given `loads`, over the rows of those loads; rules on
    columns the table lacks are left out (the column check itself then fails and names them)."""
    rules: list = []
    for f in contract.fields:
        if f.required == "file":
            rules.append(NotNull(f.name))
            if f.parsed:
                rules.append(NotNull(parsed_column(f.name)))
    rules += [KIND_RULES[f.kind](parsed_column(f.name)) for f in contract.fields if f.kind in KIND_RULES]
    rules += SOURCE_RULES.get(contract.raw_table, [])
    rules.append(latest_version_is_unique(contract, of_the_batch_only=loads is not None))
    expected = HasColumns(tuple(name for name, _ in raw_columns(contract)))
    query = None if loads is None else \
        f"select * from {contract.raw_table} where load_id in ({', '.join(str(load) for load in loads)})"
    return Suite(contract.raw_table, contract.raw_table, [expected, *applicable(rules, table_columns)], query=query)


def latest_version_is_unique(contract: Contract, of_the_batch_only: bool = False) -> RowRule:
    """The rows at a key's newest extraction agree: otherwise the key has two different "latest versions",
    and which one wins would depend on load order. Two steps, so the content is compared only for the
    keys that repeat at their newest extraction (few), not for every row. `of_the_batch_only`: for the keys of
    the batch (the loads being checked), over all their rows in the table."""
    key = ", ".join(contract.key)
    content = "md5(row(" + ", ".join(f"t.{f.name}" for f in contract.fields) + ")::text)"
    rows, keys = "{batch}", ""
    if of_the_batch_only:
        rows = "versions"
        keys = f"versions as (select * from {contract.raw_table} where ({key}) in (select {key} from {{batch}})), "
    return RowRule(
        f"the newest extraction of each {key} is one version",
        "",
        needs=tuple(contract.key),
        query=(
            f"with {keys}latest as (select {key}, max(extracted_at) as extracted_at from {rows} group by {key}), "
            f"repeated as (select {key}, extracted_at from {rows} join latest using ({key}, extracted_at) "
            f"group by {key}, extracted_at having count(*) > 1) "
            f"select {key}, extracted_at, count(distinct {content}) as versions "
            f"from repeated join {rows} as t using ({key}, extracted_at) "
            f"group by {key}, extracted_at having count(distinct {content}) > 1"
        ),
    )


def suites(columns: dict[str, set[str]], loads: list[int] | None = None) -> list[Suite]:
    """The raw suites of every contract; `columns` maps schema.table to the columns it has. Given `loads`, over
    the rows of those loads only (none: no raw suite)."""
    if loads is not None and not loads:
        return []
    return [contract_suite(contract, columns.get(contract.raw_table, set()), loads)
            for contracts in CONTRACTS.values() for contract in contracts]


def fingerprint(suites: list[Suite]) -> str:
    """A hash of what the raw suites check (their tables and rules): loads checked under another one are checked
    again."""
    return hashlib.sha256(repr([(s.table, s.rules) for s in suites]).encode()).hexdigest()
