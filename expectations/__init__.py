"""Great Expectations suites as code (`reformwh check`).

- rules.py   the few kinds of rule a suite is made of, declared as data and turned into GX expectations;
- raw.py     the raw tables' suites, derived from ingestion.contracts.CONTRACTS (a new source gets its suite
             by itself; its code sets and row rules are declared in raw.SOURCE_RULES, in one place);
- marts.py   the mart suites, declared per mart (MART_CHECKS): only what no dbt test checks — comparisons across
             periods or tables and value bounds; dbt owns each mart's grain, keys, code sets, rates and identities;
- periods.py the cross-period suites (CROSS_PERIOD_CHECKS): a unit's volume against its history, rate and field
             shifts, late arrivals after a report; over SQL-defined batches, severity warning (never fail a check);
- runner.py  runs every suite with GX against the warehouse, records results in audit.quality_results,
             builds the Data Docs and reports what failed.
"""
