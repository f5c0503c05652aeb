"""The kinds of rule the suites are made of, as plain data, and how each becomes a GX expectation.

A rule names the columns it needs; a suite keeps only the rules whose columns the table has, so a rule
declared for a column another branch has not added yet simply waits for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

RESULT_FORMAT = "SUMMARY"


@dataclass(frozen=True)
class ValueSet:
    """Every non-NULL value of a column is one of `values`."""

    column: str
    values: tuple

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def expectation(self):
        import great_expectations.expectations as gxe

        return gxe.ExpectColumnValuesToBeInSet(column=self.column, value_set=list(self.values))


@dataclass(frozen=True)
class Range:
    """Every non-NULL value of a column lies within [minimum, maximum] (None = unbounded). With `show`, a failure
    lists the rows outside with those columns (which unit, which period), not only their values."""

    column: str
    minimum: float | None = None
    maximum: float | None = None
    show: tuple[str, ...] = ()
    description: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    @property
    def violation(self) -> str:
        bounds = [f"{self.column} < {self.minimum}" if self.minimum is not None else "",
                  f"{self.column} > {self.maximum}" if self.maximum is not None else ""]
        return " or ".join(b for b in bounds if b) or "false"

    def expectation(self):
        import great_expectations.expectations as gxe

        # GX's own index columns (result_format unexpected_index_column_names) are one setting for a whole
        # checkpoint and fail on a table without them: the rows are fetched by the runner with this query instead
        meta = ({"unexpected_rows_query": f"select {', '.join(dict.fromkeys((*self.show, self.column)))} "
                                          f"from {{batch}} where {self.violation}"} if self.show else None)
        return gxe.ExpectColumnValuesToBeBetween(column=self.column, min_value=self.minimum, max_value=self.maximum,
                                                 meta=meta, description=self.description)


@dataclass(frozen=True)
class NotNull:
    column: str

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def expectation(self):
        import great_expectations.expectations as gxe

        return gxe.ExpectColumnValuesToNotBeNull(column=self.column)


@dataclass(frozen=True)
class HasColumns:
    """The table has at least these columns (more are allowed: the contracts only ever add)."""

    names: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return ()  # checked against the table itself, never skipped

    def expectation(self):
        import great_expectations.expectations as gxe

        return gxe.ExpectTableColumnsToMatchSet(column_set=list(self.names), exact_match=False)


_IDENTIFIER = re.compile(r"\b[a-z_][a-z0-9_]*\b")
_SQL_WORDS = {"and", "or", "not", "is", "null", "in", "between", "distinct", "from", "true", "false", "coalesce"}


@dataclass(frozen=True)
class RowRule:
    """A rule on each row, written as the SQL condition that finds the rows breaking it (evaluated in the
    database by UnexpectedRowsExpectation). `columns` defaults to the identifiers in the condition;
    `show` are the columns listed for each bad row in the result."""

    description: str
    violation: str
    show: tuple[str, ...] = ()
    needs: tuple[str, ...] = field(default=())
    query: str | None = None  # a whole query with {batch}, instead of `select ... where violation`

    @property
    def columns(self) -> tuple[str, ...]:
        if self.needs:
            return self.needs
        code = re.sub(r"'[^']*'", "", self.violation)  # string literals are values, not columns
        found = [w for w in _IDENTIFIER.findall(code) if w not in _SQL_WORDS]
        return tuple(dict.fromkeys(found))

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.columns, *self.show)))

    def expectation(self):
        import great_expectations.expectations as gxe

        shown = ", ".join(dict.fromkeys((*self.show, *self.columns))) or "*"
        query = self.query or f"select {shown} from {{batch}} where {self.violation}"
        return gxe.UnexpectedRowsExpectation(
            unexpected_rows_query=query, description=self.description, meta={"columns": list(self.columns)}
        )


def identity(equation: str, show: Sequence[str] = ()) -> RowRule:
    """`a + b = c + d` (or `x <= y`) on every row. An equation holds on a row whose sides are both NULL (a
    unit without procedures: all its counts are NULL) and fails where only one side is; an inequality
    is not judged where a side is NULL."""
    if "<=" in equation:
        left, right = (side.strip() for side in equation.split("<="))
        return RowRule(equation, f"({left}) > ({right})", tuple(show))
    left, right = (side.strip() for side in equation.split("="))
    return RowRule(equation, f"({left}) is distinct from ({right})", tuple(show))


def applicable(rules: Iterable, table_columns: set[str]) -> list:
    """The rules whose columns the table has."""
    return [r for r in rules if set(getattr(r, "required", r.columns)) <= table_columns]


@dataclass
class Suite:
    """One GX expectation suite over one table, or over the rows of `query` (a GX query asset; `table` then
    names the table its findings are about). `severity` is GX's: a failed `critical` expectation fails the
    check, a failed `warning` is reported and recorded but the marts still count as checked."""

    name: str
    table: str  # schema.table
    rules: list = field(default_factory=list)
    query: str | None = None
    severity: str = "critical"

    @property
    def batch(self) -> str:
        """What `{batch}` stands for in a row rule's query, run outside GX."""
        return f"({self.query}) as batch" if self.query else self.table

    def expectations(self) -> list:
        from great_expectations.expectations.metadata_types import FailureSeverity

        expectations = [rule.expectation() for rule in self.rules]
        for expectation in expectations:
            expectation.severity = FailureSeverity(self.severity)
        return expectations
