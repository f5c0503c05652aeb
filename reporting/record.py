"""The record of generated reports (spec/reports.md, "Record"): reports.report_runs (one row per
generation) and reports.published_figures (the mart rows behind it, frozen as jsonb), and the view
reports.published_figures_changed showing where today's marts differ from what was published.

The view reads the marts through a PL/pgSQL function (dynamic SQL) rather than directly: dbt replaces a
mart table on every build and drops the old one with CASCADE, which would drop a view that depended on it."""

from __future__ import annotations

import json

import psycopg

SCHEMA_SQL = """
create schema if not exists reports;

create table if not exists reports.report_runs (
    run_id bigint generated always as identity primary key,
    period_key text not null,
    calendar text not null,
    period_type text not null,
    edition text not null check (edition in ('preliminary', 'final')),
    report_date date not null,
    generated_at timestamptz not null default now(),
    data_as_of timestamp,
    files jsonb not null,
    figures_sha256 text not null,
    config jsonb not null
);
comment on table reports.report_runs is
    'One row per generated report: period, edition, the data''s newest extraction, files with SHA-256.';

create table if not exists reports.published_figures (
    run_id bigint not null references reports.report_runs on delete cascade,
    mart text not null,
    period_key text not null,
    key_columns text[] not null,
    row_key text not null,
    figures jsonb not null,
    primary key (run_id, mart, row_key)
);
comment on table reports.published_figures is
    'The mart rows behind each generated report, exactly as they were when it was generated.';

create or replace function reports.published_figures_diff()
returns table (
    run_id bigint, period_key text, mart text, row_key text, column_name text,
    published_value jsonb, current_value jsonb
)
-- the periods as an array (an init plan, not a semi-join) so that a mart that is a view counts only the
-- published periods; no nested loops, which the procedure view's chain walk turns quadratic
language plpgsql stable set enable_nestloop = off as $fn$
declare
    m record;
    period_expression text;
begin
    for m in select distinct f.mart, f.key_columns from reports.published_figures as f loop
        if to_regclass('marts.' || quote_ident(m.mart)) is null then
            continue;
        end if;
        -- par_area_scores is by year (reporting.record.PERIOD_KEY_EXPRESSIONS)
        period_expression := case m.mart when 'par_area_scores' then $e$t.year::text || '-Y'$e$
                                         else 't.period_key::text' end;
        return query execute format($q$
            with published as (
                select f.run_id, f.period_key, f.row_key, f.figures - 'data_as_of' as figures
                from reports.published_figures as f
                where f.mart = %1$L
            ),
            current_rows as (
                select concat_ws('|', %2$s) as row_key, (%3$s)::text as period_key,
                       to_jsonb(t) - 'data_as_of' as figures
                from marts.%1$I as t
                where (%3$s)::text = any(array(select distinct p.period_key from published as p))
            ),
            runs as (select distinct p.run_id, p.period_key from published as p),
            paired as (
                select r.run_id, r.period_key, x.row_key, x.published, x.current
                from runs as r
                cross join lateral (
                    select coalesce(p.row_key, c.row_key) as row_key, p.figures as published,
                           c.figures as current
                    from (select * from published as p0
                          where p0.run_id = r.run_id and p0.period_key = r.period_key) as p
                    full join (select * from current_rows as c0 where c0.period_key = r.period_key) as c
                        on p.row_key = c.row_key
                ) as x
            )
            select paired.run_id, paired.period_key, %1$L::text, paired.row_key, '(row)'::text,
                   paired.published, paired.current
            from paired where paired.published is null or paired.current is null
            union all
            select paired.run_id, paired.period_key, %1$L::text, paired.row_key, k.key,
                   paired.published -> k.key, paired.current -> k.key
            from paired
            cross join lateral jsonb_object_keys(paired.published || paired.current) as k(key)
            where paired.published is not null and paired.current is not null
              and (paired.published -> k.key) is distinct from (paired.current -> k.key)
        $q$, m.mart, (select string_agg(case when c = 'period_key' then period_expression
                                             else format('t.%I::text', c) end, ', ')
                      from unnest(m.key_columns) as c),
           period_expression);
    end loop;
end
$fn$;

create or replace view reports.published_figures_changed as
select * from reports.published_figures_diff();
comment on view reports.published_figures_changed is
    'Where today''s marts differ from the figures of a generated report: one row per changed column, '
    'or column_name ''(row)'' for a row that appeared or disappeared. data_as_of is not compared.';

do $$
begin
    if exists (select from pg_roles where rolname = 'reformwh_staff') then
        grant usage on schema reports to reformwh_staff;
        grant select on all tables in schema reports to reformwh_staff;
        grant execute on function reports.published_figures_diff() to reformwh_staff;
    end if;
end
$$;
"""


def ensure_reports_schema(conn: psycopg.Connection) -> None:
    # one statement batch; idempotent, so every `reformwh report` can run it on any database
    conn.execute("select pg_advisory_xact_lock(hashtext('reformwh.reports_schema'))")
    conn.execute(SCHEMA_SQL)


# marts without a period_key column: how a row's period key is made (par_area_scores is by year: "2025-Y")
PERIOD_KEY_EXPRESSIONS = {"par_area_scores": "t.year::text || '-Y'"}


def record_run(conn: psycopg.Connection, *, period: dict, edition: str, report_date, data_as_of,
               files: list[dict], config: dict, frozen: list[tuple[str, list[str], list[str]]]) -> tuple[int, str]:
    """Insert the run and freeze the mart rows: `frozen` lists (mart, key columns, period keys)."""
    run_id = conn.execute(
        """insert into reports.report_runs (period_key, calendar, period_type, edition, report_date,
               data_as_of, files, figures_sha256, config)
           values (%s, %s, %s, %s, %s, %s, %s, '', %s) returning run_id""",
        [period["period_key"], period["calendar"], period["period_type"], edition, report_date, data_as_of,
         json.dumps(files), json.dumps(config, ensure_ascii=False)]).fetchone()[0]
    for mart, key_columns, period_keys in frozen:
        period_key = PERIOD_KEY_EXPRESSIONS.get(mart, "t.period_key")
        key = ", ".join(period_key if c == "period_key" else f"t.{c}::text" for c in key_columns)
        conn.execute(
            f"""insert into reports.published_figures (run_id, mart, period_key, key_columns, row_key, figures)
                select %s, %s, {period_key}, %s, concat_ws('|', {key}), to_jsonb(t)
                from marts.{mart} as t where {period_key} = any(%s)""",
            [run_id, mart, key_columns, period_keys])
    digest = conn.execute(
        """update reports.report_runs set figures_sha256 = (
               select encode(sha256(convert_to(coalesce(string_agg(
                   f.mart || '|' || f.row_key || '|' || f.figures::text, E'\\n' order by f.mart, f.row_key), ''),
                   'UTF8')), 'hex')
               from reports.published_figures as f where f.run_id = %s)
           where run_id = %s returning figures_sha256""", [run_id, run_id]).fetchone()[0]
    return run_id, digest
