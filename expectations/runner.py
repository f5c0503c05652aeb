"""Run the suites with Great Expectations, record every result in audit.quality_results, build Data Docs.

The GX project lives under REFORMWH_HOME/gx (file mode, so Data Docs keep the history of runs); its
datasource reads the warehouse URL from an environment variable at run time, so no password is written
to disk. Suites are regenerated on every run from the tables' current columns.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from . import marts, periods, raw
from .rules import RESULT_FORMAT, Suite

DATASOURCE = "warehouse"
CHECKPOINT = "reformwh"
SITE = "local_site"
BATCH = "all rows"
URL_VARIABLE = "REFORMWH_GX_WAREHOUSE_URL"
# the schemas whose tables are checked, or read by a cross-period check (reports: the reports sent;
# intermediate: when each dossier first arrived, int_dossier_arrivals)
CHECKED_SCHEMAS = ("raw", "marts", "reports", "intermediate")
# Data Docs keep the last runs (the index is rebuilt from all stored results, so it must stay small);
# audit.quality_results keeps every result.
KEEP_RUNS = 30
EXAMPLES = 3  # bad values or rows shown per failure


@contextmanager
def _gx_warnings_silenced():
    """GX 1.14+ deprecates a table asset's schema_name in favour of the datasource's schema, which a Postgres
    datasource cannot express (GX 1.24): schema_name stays the way to check tables of several schemas."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`schema_name` is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="module 'sre_", category=DeprecationWarning)
        yield


@dataclass
class Outcome:
    """One expectation's result, as recorded in audit.quality_results."""

    suite: str
    table: str
    column: str | None
    expectation: str
    description: str | None
    success: bool
    observed_value: str | None
    unexpected_count: int | None
    element_count: int | None
    exception: str | None = None
    examples: str | None = None  # JSON: a few unexpected values or rows
    query: str | None = field(default=None, repr=False)  # of a failed row rule, to fetch its examples
    severity: str = "critical"  # GX's: a failed warning does not fail the check
    batch: str | None = field(default=None, repr=False)  # what {batch} in `query` stands for

    def describe(self) -> str:
        what = f"{self.table}" + (f" [{self.column}]" if self.column else "")
        detail = f" — {self.description}" if self.description else ""
        figures = []
        if self.unexpected_count is not None:
            figures.append(f"{self.unexpected_count} unexpected" + (
                f" of {self.element_count}" if self.element_count is not None else ""))
        if self.observed_value is not None and self.expectation != "unexpected_rows_expectation":
            figures.append(f"observed {self.observed_value[:200]}")
        if self.examples:
            figures.append(f"e.g. {self.examples[:300]}")
        if self.exception:
            figures.append(f"error: {self.exception.splitlines()[0][:300]}")
        return f"{what}: {self.expectation}{detail} ({'; '.join(figures) or 'failed'})"


@dataclass
class CheckResult:
    run_id: int
    success: bool
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    data_docs: Path | None = None

    @property
    def failures(self) -> list[Outcome]:
        """Failed expectations that fail the check (severity critical)."""
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    @property
    def warnings(self) -> list[Outcome]:
        """Failed expectations of severity warning: reported, recorded, not failing the check."""
        return [o for o in self.outcomes if not o.success and o.severity != "critical"]


def sqlalchemy_url(database_url: str) -> str:
    """GX speaks SQLAlchemy: the psycopg 3 driver the project already uses."""
    scheme, rest = database_url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else database_url


def table_columns(conn: psycopg.Connection) -> dict[str, dict[str, str]]:
    rows = conn.execute(
        "select c.table_schema || '.' || c.table_name, c.column_name, c.data_type "
        "from information_schema.columns c join information_schema.tables t "
        "on t.table_schema = c.table_schema and t.table_name = c.table_name "
        "where c.table_schema = any(%s) and t.table_type = 'BASE TABLE' "
        "order by c.table_schema, c.table_name, c.ordinal_position",
        [list(CHECKED_SCHEMAS)],
    ).fetchall()
    columns: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        columns.setdefault(table, {})[column] = data_type
    return columns


def all_suites(columns: dict[str, dict[str, str]], raw_loads: list[int] | None = None) -> list[Suite]:
    """Every suite; the raw suites over the rows of `raw_loads` only when given."""
    return (raw.suites({t: set(c) for t, c in columns.items()}, raw_loads) + marts.suites(columns)
            + periods.suites(columns))


def raw_loads_to_check(conn: psycopg.Connection, raw_suites: str) -> tuple[list[int], bool]:
    """The loads whose raw rows no passed check validated under these raw suites (a hash: raw.fingerprint), and
    whether any load was. Raw only grows (a load's rows are written once), so rows once validated need not be
    read again; when none was (a first check, or the suites changed), all of raw is read."""
    unchecked = [load for (load,) in conn.execute(
        "select distinct load_id from audit.file_loads f where status <> 'rejected' and not exists "
        "(select from audit.quality_checked_loads c where c.load_id = f.load_id and c.raw_suites = %s) order by 1",
        [raw_suites]).fetchall()]
    any_checked = conn.execute("select exists (select from audit.quality_checked_loads where raw_suites = %s)",
                               [raw_suites]).fetchone()[0]
    return unchecked, any_checked


def data_docs_dir(home: Path) -> Path:
    return home / "data_docs"


def _context(home: Path, database_url: str):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no calls home from a government warehouse
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    os.environ[URL_VARIABLE] = sqlalchemy_url(database_url)
    home.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(home))
    if context.config.analytics_enabled is not False:
        context.enable_analytics(False)  # saved in the project: off whatever the environment says
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                          "base_directory": str(data_docs_dir(home))},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    if context.variables.data_docs_sites != {SITE: site} or context.variables.progress_bars is None:
        context.variables.data_docs_sites = {SITE: site}
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.save()
    return context


def _prune_history(home: Path, keep: int) -> None:
    """Drop stored validation results (and their pages) beyond the newest `keep` runs of each suite."""
    for root in (home / "gx" / "uncommitted" / "validations", data_docs_dir(home) / "validations"):
        for runs in root.rglob("__none__") if root.exists() else ():
            for old in sorted(p for p in runs.iterdir() if p.is_dir())[:-keep]:
                shutil.rmtree(old, ignore_errors=True)


def _asset(source, spec: Suite):
    """The suite's table asset, or query asset for a suite over a query; kept across runs (validation definitions
    refer to it) unless its query changed."""
    try:
        asset = source.get_asset(spec.name)
    except LookupError:
        asset = None
    if asset is not None and getattr(asset, "query", None) == spec.query:
        return asset
    if asset is not None:
        source.delete_asset(spec.name)
    if spec.query:
        return source.add_query_asset(spec.name, query=spec.query)
    schema, table = spec.table.split(".", 1)
    return source.add_table_asset(spec.name, table_name=table, schema_name=schema)


def _define(context, suites: list[Suite]):
    """Datasource, one asset per suite, suites and validation definitions, and the checkpoint."""
    import great_expectations as gx

    # The checkpoint is regenerated below; the stored one may name validation definitions of suites that no
    # longer exist, and GX cannot even load it to replace it.
    (Path(context.root_directory) / "checkpoints" / f"{CHECKPOINT}.json").unlink(missing_ok=True)
    try:
        source = context.data_sources.get(DATASOURCE)
    except KeyError:
        source = context.data_sources.add_postgres(DATASOURCE, connection_string="${" + URL_VARIABLE + "}")
    wanted = {s.name for s in suites}
    for old in context.validation_definitions.all():
        if old.name not in wanted:
            context.validation_definitions.delete(old.name)
    for old in context.suites.all():
        if old.name not in wanted:
            context.suites.delete(old.name)
    definitions = []
    for spec in suites:
        asset = _asset(source, spec)
        try:
            batch = asset.get_batch_definition(BATCH)
        except KeyError:
            batch = asset.add_batch_definition_whole_table(BATCH)
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=spec.name, expectations=spec.expectations()))
        definitions.append(context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=spec.name, data=batch, suite=suite)))
    # no UpdateDataDocsAction: it rebuilds the site's index once per suite (a third of a check's time);
    # run() updates the Data Docs once, for all of a run's results
    return context.checkpoints.add_or_update(gx.Checkpoint(
        name=CHECKPOINT, validation_definitions=definitions, result_format=RESULT_FORMAT))


def _column_of(config) -> str | None:
    kwargs = config.kwargs
    if kwargs.get("column"):
        return kwargs["column"]
    if kwargs.get("column_list"):
        return ", ".join(kwargs["column_list"])
    columns = (config.meta or {}).get("columns")
    return ", ".join(columns) if columns else None


def _outcomes(spec: Suite, validation) -> list[Outcome]:
    outcomes = []
    for result in validation.results:
        config = result.expectation_config
        figures = result.result or {}
        observed = figures.get("observed_value")
        unexpected = figures.get("unexpected_count")
        if config.type == "unexpected_rows_expectation":
            unexpected = observed if isinstance(observed, int) else None
        if config.type == "expect_table_columns_to_match_set" and not result.success:
            details = figures.get("details", {}).get("mismatched", {})
            observed = json.dumps({"missing": details.get("missing", [])}, default=str)
        info = result.exception_info or {}
        exception = info.get("exception_message") if info.get("raised_exception") else None
        examples = figures.get("partial_unexpected_list")
        outcomes.append(Outcome(
            suite=spec.name, table=spec.table, column=_column_of(config), expectation=config.type,
            description=config.description, success=bool(result.success),
            observed_value=None if observed is None else (observed if isinstance(observed, str)
                                                          else json.dumps(observed, default=str)),
            unexpected_count=unexpected, element_count=figures.get("element_count"), exception=exception,
            examples=json.dumps(examples[:EXAMPLES], default=str, ensure_ascii=False) if examples else None,
            severity=str(getattr(config.severity, "value", config.severity) or "critical"), batch=spec.batch,
        ))
        # the bad rows of a row rule, or of a rule that names its rows (rules.Range `show`): run again below
        query = config.kwargs.get("unexpected_rows_query") or (config.meta or {}).get("unexpected_rows_query")
        if not result.success and query and not exception:
            outcomes[-1].query = query
    return outcomes


def _bad_row_examples(conn: psycopg.Connection, outcome: Outcome, query: str) -> str | None:
    """A few of the rows a failed row rule found (GX's SUMMARY results carry only their count): the first in the
    order of their shown values, so that the same findings show the same examples whatever plan found them."""
    from psycopg.rows import dict_row

    try:
        with conn.cursor(row_factory=dict_row) as cursor:
            rows = cursor.execute(f"select * from ({query.replace('{batch}', outcome.batch or outcome.table)}) as bad "
                                  f"order by bad::text limit {EXAMPLES}").fetchall()
    except psycopg.Error:
        return None
    return json.dumps(rows, default=str, ensure_ascii=False)


def _record(conn: psycopg.Connection, result: CheckResult, started: datetime) -> None:
    with conn.transaction():
        conn.execute(
            "insert into audit.quality_runs (run_id, started_at, finished_at, seconds, success, expectations, "
            "failed, warnings, data_docs) values (%s, %s, now(), %s, %s, %s, %s, %s, %s)",
            [result.run_id, started, round(result.seconds, 3), result.success, len(result.outcomes),
             len(result.failures), len(result.warnings), str(result.data_docs) if result.data_docs else None],
        )
        with conn.cursor().copy(
            "copy audit.quality_results (run_id, suite, table_name, column_name, expectation, description, "
            "success, observed_value, unexpected_count, element_count, exception, examples, run_at, run_seconds, "
            "severity) from stdin"
        ) as copy:
            for o in result.outcomes:
                copy.write_row([result.run_id, o.suite, o.table, o.column, o.expectation, o.description,
                                o.success, o.observed_value, o.unexpected_count, o.element_count, o.exception,
                                o.examples, started, round(result.seconds, 3), o.severity])


def _update_data_docs(context, run_result) -> None:
    """The pages of this run's validations and suites, and the index, in one pass."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    identifiers = []
    for identifier, validation in run_result.run_results.items():
        identifiers += [identifier, ExpectationSuiteIdentifier(name=validation.suite_name)]
    context.build_data_docs(site_names=[SITE], resource_identifiers=identifiers, build_index=True)


def run(database_url: str, home: Path, progress: Callable[[str], None] = print, full: bool = False) -> CheckResult:
    """Validate every suite; record and return the results (the caller decides how to report failures). The raw
    suites read only the loads no passed check validated (raw_loads_to_check), unless `full`."""
    from ingestion.schema import ensure_schema

    started = datetime.now(UTC)
    clock = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        ensure_schema(conn)
        columns = table_columns(conn)
        run_id = conn.execute("select nextval('audit.quality_run_id_seq')").fetchone()[0]
        every_raw_suite = raw.suites({t: set(c) for t, c in columns.items()})
        raw_suites = raw.fingerprint(every_raw_suite)
        unchecked, any_checked = raw_loads_to_check(conn, raw_suites)
        loads = unchecked if any_checked and not full else None  # None: all of raw
    suites = all_suites(columns, loads)
    with _gx_warnings_silenced():
        context = _context(home, database_url)
        checkpoint = _define(context, suites)
        raw_scope = "all of raw" if loads is None else f"the raw rows of {len(loads)} load(s) not checked before"
        progress(f"checking {len(suites)} suite(s), {sum(len(s.rules) for s in suites)} expectation(s), "
                 f"{raw_scope}…")
        _prune_history(home, KEEP_RUNS - 1)  # this run makes KEEP_RUNS
        run_result = checkpoint.run()
        _update_data_docs(context, run_result)
    by_name = {s.name: s for s in suites}
    outcomes = []
    for validation in run_result.run_results.values():
        outcomes += _outcomes(by_name[validation.suite_name], validation)
    index = data_docs_dir(home) / "index.html"
    # GX's own success counts every failure; here a failed warning does not fail the run
    result = CheckResult(run_id, all(o.success or o.severity != "critical" for o in outcomes), outcomes,
                         time.perf_counter() - clock, index if index.exists() else None)
    raw_names = {s.name for s in every_raw_suite}
    raw_passed = not any(o.suite in raw_names for o in result.failures)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for failure in result.failures + result.warnings:
            if failure.query:
                failure.examples = _bad_row_examples(conn, failure, failure.query)
        _record(conn, result, started)
        if raw_passed and unchecked:  # a full pass also covers only the loads committed before it started
            conn.execute("insert into audit.quality_checked_loads (load_id, raw_suites, run_id) "
                         "select unnest(%s::bigint[]), %s, %s on conflict do nothing", [unchecked, raw_suites, run_id])
    return result


def build_docs(database_url: str, home: Path) -> Path:
    """Build the Data Docs site (suites and every stored validation) and return its index.html."""
    from ingestion.schema import ensure_schema

    with psycopg.connect(database_url, autocommit=True) as conn:
        ensure_schema(conn)
        suites = all_suites(table_columns(conn))
    with _gx_warnings_silenced():
        context = _context(home, database_url)
        _define(context, suites)
        context.build_data_docs(site_names=[SITE])
    return data_docs_dir(home) / "index.html"
