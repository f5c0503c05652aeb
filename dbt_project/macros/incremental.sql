{#-
    Incremental builds: the daily build costs what the day's loads brought, not what the years hold.

    Every load (file, or quarantine re-processing) has an id (audit.file_loads). An incremental model
    remembers which loads it has processed (intermediate.incremental_loads). Its pre-hook claims, in the
    model's own transaction, the loads its upstream has and it has not — for a model on raw, the source's
    loads in audit.file_loads; for a model on another incremental model, the loads that model has
    processed — and its SQL processes only the rows of the claimed loads (`claimed_loads_only()`). A load
    that commits while a model runs is not claimed, so the next build takes it: no load is skipped,
    whatever order loads commit in, from the CLI or from Airflow.

    A model builds over everything again — with the same SQL, so incremental equals full — when it has no
    state yet, or when what its figures depend on besides the loads has changed: this project's dbt code
    (hashed by `reformwh build`, reformwh/pipeline.py) and, unless it declares
    meta={'reads_reference_data': false}, the reference data. It is then rebuilt like `--full-refresh` does
    (should_full_refresh below): a new table swapped in. `reformwh build --full-refresh` rebuilds every table
    from scratch.
-#}

{% macro create_incremental_state() -%}
    create schema if not exists reference;
    create table if not exists reference.transform_code (fingerprint text not null);
    create schema if not exists intermediate;
    create table if not exists intermediate.incremental_state (
        model text primary key,
        batch bigint not null,
        inputs_fingerprint text,
        data_as_of timestamp,
        built_at timestamptz
    );
    create table if not exists intermediate.incremental_loads (
        model text not null,
        load_id bigint not null,
        batch bigint not null,
        primary key (model, load_id)
    )
{%- endmacro %}

{#- A model's recorded state as a dict (batch, inputs_fingerprint, data_as_of), or none. -#}
{% macro incremental_state(model_name) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set result = run_query(
        "select batch, inputs_fingerprint, data_as_of::text from intermediate.incremental_state "
        ~ "where model = '" ~ model_name ~ "'"
    ) -%}
    {%- if result.rows | length == 0 -%}{{ return(none) }}{%- endif -%}
    {%- set row = result.rows[0] -%}
    {{ return({'batch': row[0], 'inputs_fingerprint': row[1], 'data_as_of': row[2]}) }}
{%- endmacro %}

{#- A hash of the project's dbt code and, with reference_data, of the reference tables. -#}
{% macro inputs_fingerprint(reference_data=true) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set selects = ["select 'code' || r::text as line from reference.transform_code as r"] -%}
    {%- for table in (['units', 'holidays', 'reporting_calendar', 'criteria', 'indicators'] if reference_data else []) -%}
        {%- do selects.append("select '" ~ table ~ "' || r::text as line from " ~ source('reference', table) ~ " as r") -%}
    {%- endfor -%}
    {%- set result = run_query(
        "select md5(coalesce(string_agg(line, '|' order by line), '')) from ("
        ~ selects | join(' union all ') ~ ") as lines"
    ) -%}
    {{ return(result.rows[0][0]) }}
{%- endmacro %}

{% macro model_inputs_fingerprint() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {{ return(inputs_fingerprint(reference_data=config.get('meta', {}).get('reads_reference_data', true))) }}
{%- endmacro %}

{#- dbt's own macro, which its incremental materialization and is_incremental() ask, extended: an incremental
    model whose state is missing or was built with other code or reference data is rebuilt as on
    --full-refresh — into a new table swapped in — not by delete+insert of every row, which took twice a full
    build's time (a unit merged: 538 s against 245 s at 10M version rows) and left every old row dead in the
    table. Decided on the state as the model found it: the post-hook records the new fingerprint. -#}
{% macro should_full_refresh() -%}
    {%- set configured = config.get('full_refresh') -%}
    {%- if configured is none -%}{%- set configured = flags.FULL_REFRESH -%}{%- endif -%}
    {#- unit tests have no relation of their own: they test the build over everything -#}
    {%- if configured or not execute or this is none or model.config.materialized != 'incremental' -%}
        {{ return(configured) }}
    {%- endif -%}
    {%- set state = incremental_state(this.identifier) -%}
    {{ return(state is none or state.inputs_fingerprint != model_inputs_fingerprint()) }}
{%- endmacro %}

{#- True when this model builds only over the loads it claims; false on a build over everything. -#}
{% macro builds_incrementally() -%}
    {{ return(execute and this is not none and is_incremental()) }}
{%- endmacro %}

{#- The loads upstream of a model: a source's loads in the audit, or the loads another model has processed. -#}
{% macro upstream_loads(upstream) -%}
    {%- if upstream.startswith('source:') -%}
        select load_id from {{ source('audit', 'file_loads') }}
        where source = '{{ upstream[7:] }}' and status in ('loaded', 'reprocessed')
    {%- else -%}
        select load_id from intermediate.incremental_loads where model = '{{ upstream }}'
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of every incremental model: start a new batch and claim the upstream loads not processed yet
    (all of them, after forgetting the old ones, on a build over everything). -#}
{% macro claim_new_loads(upstream, everything) -%}
    insert into intermediate.incremental_state as s (model, batch) values ('{{ this.identifier }}', 1)
    on conflict (model) do update set batch = s.batch + 1;
    {% if everything -%}
    delete from intermediate.incremental_loads where model = '{{ this.identifier }}';
    {%- endif %}
    insert into intermediate.incremental_loads (model, load_id, batch)
    select
        '{{ this.identifier }}',
        upstream.load_id,
        (select s.batch from intermediate.incremental_state as s where s.model = '{{ this.identifier }}')
    from ({{ upstream_loads(upstream) }}) as upstream
    where not exists (
        select 1 from intermediate.incremental_loads as own
        where own.model = '{{ this.identifier }}' and own.load_id = upstream.load_id
    )
{%- endmacro %}

{#- The loads this model claimed in its current batch. -#}
{% macro claimed_loads(model_name=none) -%}
    {%- set name = model_name or this.identifier -%}
    select claimed.load_id from intermediate.incremental_loads as claimed
    where claimed.model = '{{ name }}' and claimed.batch = (
        select s.batch from intermediate.incremental_state as s where s.model = '{{ name }}'
    )
{%- endmacro %}

{#- The condition on the rows to process: those of the claimed loads, or every row on a build over everything.
    The lower bound helps the planner use the index on raw's load_id. -#}
{% macro claimed_loads_only(incremental, column='load_id') -%}
    {%- if incremental -%}
        {{ column }} in ({{ claimed_loads() }})
        and {{ column }} >= (select coalesce(min(c.load_id), 0) from ({{ claimed_loads() }}) as c)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- post_hook of every incremental model: what its figures were built with. -#}
{% macro record_incremental_state(data_as_of_sql='null') -%}
    update intermediate.incremental_state
    set
        inputs_fingerprint = '{{ model_inputs_fingerprint() }}',
        data_as_of = ({{ data_as_of_sql }}),
        built_at = now()
    where model = '{{ this.identifier }}'
{%- endmacro %}

{#- config() of an incremental model: claim before, record after. -#}
{% macro incremental_hooks(upstream, data_as_of_sql="'null'", extra_pre_hook='', extra_post_hook='') -%}
    {{ return({
        'pre_hook': ["{{ claim_new_loads('" ~ upstream ~ "', not builds_incrementally()) }}"]
            + ([extra_pre_hook] if extra_pre_hook else []),
        'post_hook': ["{{ record_incremental_state(" ~ data_as_of_sql ~ ") }}"]
            + ([extra_post_hook] if extra_post_hook else []),
    }) }}
{%- endmacro %}

{#- The condition that `column` is the code of a dossier with a version in a load this model claimed. As
    `= any(array(...))`, not `in (...)`: the planner cannot tell how many rows the claimed loads hold and took
    a few million, so it hash-joined every row of raw (one day at 10M version rows: 5.4 s); an array of
    unknown length it takes for a few values, and looks each up in raw's index on dossier_code (0.6 s). -#}
{% macro has_new_version(column) -%}
    {{ column }} = any(array(
        select new_versions.dossier_code
        from {{ ref('stg_one_stop_shop__dossiers') }} as new_versions
        where {{ claimed_loads_only(true, 'new_versions.load_id') }}
    ))
{%- endmacro %}

{#- The first version still in raw of each dossier with a version in a load this model claimed. Its comparison
    with the version before it, if any, cannot be made again when that version was archived (reformwh archive-raw):
    int_dossier_versions_compared keeps it. -#}
{% macro first_versions_in_raw() -%}
    select distinct on (first_version.dossier_code)
        first_version.dossier_code,
        first_version.extracted_at,
        first_version.source_file,
        first_version.source_line
    from {{ ref('stg_one_stop_shop__dossiers') }} as first_version
    where {{ has_new_version('first_version.dossier_code') }}
    order by first_version.dossier_code, first_version.extracted_at, first_version.load_id, first_version.source_line
{%- endmacro %}

{#- The rows of int_dossiers_classified that its current batch replaces, as they were. -#}
{% macro replaced_dossiers() -%}
    intermediate.int_dossiers_classified_replaced
{%- endmacro %}

{#- The rows int_dossiers_classified's current batch wrote (the changed dossiers as they are now), as a
    relation. -#}
{% macro changed_dossiers() -%}
    (select * from {{ ref('int_dossiers_classified') }}
    where load_id in ({{ claimed_loads('int_dossiers_classified') }})) as changed_dossiers
{%- endmacro %}

{#- The counted dossiers this batch did not change whose flags in a period that was running at `since` (the
    data's time at the last count, a timestamp's text) move with the data's time alone, up to now: received,
    ended or due in between (dossier_periods_flagged: joined once evaluation_time >= received_at, resolved once
    end_at <= evaluation_time, overdue once due_at < evaluation_time). Counted by difference like the changed
    dossiers: as they are judged now, minus as they were judged at `since`. The index on the latest of the three
    times finds the candidates (mostly dossiers open and not yet due); the exact ranges then keep the few that
    moved. -#}
{% macro dossiers_moved_by_time(since) -%}
    (select moved.* from {{ ref('int_dossiers_classified') }} as moved
    cross join (select max(data_as_of) as until from {{ ref('int_periods_evaluated') }}) as now
    where
        moved.is_counted
        and moved.load_id not in ({{ claimed_loads('int_dossiers_classified') }})
        and greatest(moved.received_at, moved.end_at, moved.due_at) >= '{{ since }}'::timestamp
        and (
            (moved.received_at > '{{ since }}'::timestamp and moved.received_at <= now.until)
            or (moved.end_at > '{{ since }}'::timestamp and moved.end_at <= now.until)
            or (moved.due_at >= '{{ since }}'::timestamp and moved.due_at < now.until)
        )) as moved_by_time
{%- endmacro %}

{#- pre_hook of int_dossiers_classified: keep the rows the batch replaces (the dossiers with a version in the
    claimed loads) until the next build. None on a build over everything: the counts, which then have not seen the
    loads this model saw before (processed_same_loads), are counted over everything too. -#}
{% macro keep_replaced_dossiers() -%}
    drop table if exists {{ replaced_dossiers() }};
    {% if builds_incrementally() -%}
    create table {{ replaced_dossiers() }} as
    select kept.* from {{ this }} as kept
    where kept.dossier_code in (
        select new_version.dossier_code from {{ ref('int_dossiers_deduplicated') }} as new_version
        where {{ claimed_loads_only(true, 'new_version.load_id') }}
    );
    create unique index on {{ replaced_dossiers() }} (dossier_code);
    analyze {{ replaced_dossiers() }}
    {%- endif %}
{%- endmacro %}

{#- The periods int_dossier_periods_affected names, as a list (constants plan better than a join): 'all',
    'whole' (counted again whole), 'recounted' (with groups whose dossiers are counted again) or 'by_difference'
    (with groups counted by difference). -#}
{% macro affected_period_keys(how='all') -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set condition = {
        'all': 'true',
        'whole': 'unit_code is null',
        'recounted': 'unit_code is not null and not by_difference',
        'by_difference': 'unit_code is not null and by_difference',
    }[how] -%}
    {%- set result = run_query(
        'select distinct period_key from ' ~ ref('int_dossier_periods_affected') ~ ' where ' ~ condition ~ ' order by 1'
    ) -%}
    {{ return(result.columns[0].values() | list) }}
{%- endmacro %}

{#- The (dossier unit, field, procedure) of the dossiers that int_dossier_periods_affected's groups counted again
    hold: every unit whose dossiers go to a group's as-was unit in its period, and the unit itself (a unit outside
    the reference data is its own as-was unit). -#}
{% macro affected_dossier_groups() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set result = run_query(
        'select as_was.dossier_unit_code, a.field_code, a.procedure_code from '
        ~ ref('int_dossier_periods_affected') ~ ' as a inner join ' ~ ref('int_dossier_units_as_was')
        ~ ' as as_was on a.period_key = as_was.period_key and a.unit_code = as_was.unit_code'
        ~ ' where not a.by_difference'
        ~ ' union select a.unit_code, a.field_code, a.procedure_code from '
        ~ ref('int_dossier_periods_affected') ~ ' as a where a.unit_code is not null and not a.by_difference'
        ~ ' order by 1, 2, 3'
    ) -%}
    {{ return(result.rows | map('list') | list) }}
{%- endmacro %}

{#- Rows of texts as an SQL list of their values joined by '|', for `concat_ws('|', …) in (…)`: PostgreSQL looks a
    list of constants up in a hash table, where a list of row constants is compared row by row (1,435 groups
    against 3.3M dossiers: 23 s against 1 s). Used as a pre-filter only: a code holding '|' or a null can only let
    more rows through, never fewer. -#}
{% macro sql_joined_list(rows) -%}
    {{- sql_text_list(rows | map('join', '|') | list) -}}
{%- endmacro %}

{#- The rows of int_unit_procedure_periods_counted that its current batch counts by difference, as they were. -#}
{% macro replaced_counts() -%}
    intermediate.int_unit_procedure_periods_counted_replaced
{%- endmacro %}

{#- pre_hook of int_unit_procedure_periods_counted: its rows that this build counts again, deleted; those it
    counts by difference, moved to replaced_counts(). -#}
{% macro delete_affected_counts() -%}
    {%- set affected_row -%}
        counted.period_key = affected.period_key and (
            affected.unit_code is null or (
                counted.unit_code = affected.unit_code
                and coalesce(counted.field_code, '') = affected.field_code
                and counted.procedure_code is not distinct from affected.procedure_code
            )
        )
    {%- endset -%}
    drop table if exists {{ replaced_counts() }};
    create table {{ replaced_counts() }} as select * from {{ this }} where false;
    with moved as (
        delete from {{ this }} as counted
        using {{ ref('int_dossier_periods_affected') }} as affected
        where {{ affected_row }} and affected.by_difference
        returning counted.*
    )
    insert into {{ replaced_counts() }} select * from moved;
    delete from {{ this }} as counted
    using {{ ref('int_dossier_periods_affected') }} as affected
    where {{ affected_row }}
{%- endmacro %}

{#- post_hook of int_unit_procedure_periods_counted, in the transaction of its counts: the groups it has just counted
    by difference are marked to be counted again from their dossiers instead, should it run again before
    int_dossier_periods_affected does (`reformwh build --select int_unit_procedure_periods_counted+`, an Airflow
    task cleared): a difference applied twice would count the day's changes twice; a recount is right any
    number of times. -#}
{% macro mark_differences_applied() -%}
    update {{ ref('int_dossier_periods_affected') }} set by_difference = false where by_difference
{%- endmacro %}

{#- Texts as an SQL list of constants; an empty list matches nothing. -#}
{% macro sql_text_list(values) -%}
    {%- for value in values %}'{{ value | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%}
    {{- 'null' if not values -}}
{%- endmacro %}

{#- Whether a model has processed exactly the loads another had processed before its current batch. -#}
{% macro processed_same_loads(model_name, before_current_batch_of) -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set earlier -%}
        select load_id from intermediate.incremental_loads
        where model = '{{ before_current_batch_of }}' and batch < (
            select batch from intermediate.incremental_state where model = '{{ before_current_batch_of }}'
        )
    {%- endset -%}
    {%- set mine -%}
        select load_id from intermediate.incremental_loads where model = '{{ model_name }}'
    {%- endset -%}
    {%- set result = run_query(
        "select count(*) from ((" ~ mine ~ " except " ~ earlier ~ ") union all (" ~ earlier ~ " except " ~ mine ~ ")) as d"
    ) -%}
    {{ return(result.rows[0][0] == 0) }}
{%- endmacro %}

{#- The newest version of each key (newest extraction, then the later load and line) among the rows of the
    claimed loads and, on an incremental build, the version kept so far: the de-duplication models' query.
    `columns` are the relation's columns this model keeps (the kept table has them under the same names). -#}
{% macro newest_versions(relation, key, columns, incremental) -%}
with new_versions as (
    select {{ columns | join(', ') }}
    from {{ relation }}
    where {{ claimed_loads_only(incremental) }}
),

candidates as (
    select * from new_versions
    {%- if incremental %}

    union all

    select {% for c in columns %}kept.{{ c }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ this }} as kept
    where ({% for k in key %}kept.{{ k }}{{ ', ' if not loop.last }}{% endfor %})
        in (select {{ key | join(', ') }} from new_versions)
    {%- endif %}
)

select distinct on ({{ key | join(', ') }}) *
from candidates
order by {% for k in key %}{{ k }} asc, {% endfor %}extracted_at desc, load_id desc, source_line desc
{%- endmacro %}

{#- The batch of int_dossiers_classified that the published marts.fct_dossier holds, or none (no fct_dossier
    published yet, or published before publications recorded it): fct_dossier builds as the rows written since
    and publication patches marts.fct_dossier with them (reformwh/pipeline.py publish_marts). -#}
{% macro published_dossiers_batch() -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set result = run_query(
        "select case when to_regclass('marts.fct_dossier') is not null then ("
        ~ "select p.fct_dossier_batch from audit.mart_publications as p where p.fct_dossier_batch is not null "
        ~ "order by p.publication_id desc limit 1) end"
    ) -%}
    {{ return(result.rows[0][0]) }}
{%- endmacro %}
