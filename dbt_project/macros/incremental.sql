{#-
    Incremental builds: the daily build costs what the day's loads brought, not what the years hold.

    Every load (file or quarantine re-processing) has a load id from one sequence (audit.file_loads). An
    incremental model records, after each successful build, the newest load id it has seen
    (intermediate.incremental_state) and next time processes only rows of newer loads. `reformwh build`
    and `reformwh ingest` take the same database lock (reformwh/pipeline.py), so no load commits while a
    build runs and no lower load id can appear behind a recorded one.

    A model builds over everything again — with the same SQL, so incremental equals full — when it has
    no state yet, or when the inputs its figures depend on besides the loads have changed since: the
    reference data, this project's models and macros, or the period vars (inputs_fingerprint).
    `reformwh build --full-refresh` rebuilds every table from scratch.
-#}

{% macro create_incremental_state() -%}
    create schema if not exists reference;
    create table if not exists reference.transform_code (fingerprint text not null);
    create schema if not exists intermediate;
    create table if not exists intermediate.incremental_state (
        model text primary key,
        since_load_id bigint not null,
        through_load_id bigint not null,
        inputs_fingerprint text not null,
        data_as_of timestamp,
        built_at timestamptz not null default now()
    )
{%- endmacro %}

{#- The model's recorded state as a dict (since_load_id, through_load_id, inputs_fingerprint, data_as_of), or none. -#}
{% macro incremental_state(model_name) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set result = run_query(
        "select since_load_id, through_load_id, inputs_fingerprint, data_as_of::text "
        ~ "from intermediate.incremental_state where model = '" ~ model_name ~ "'"
    ) -%}
    {%- if result.rows | length == 0 -%}{{ return(none) }}{%- endif -%}
    {%- set row = result.rows[0] -%}
    {{ return({'since_load_id': row[0], 'through_load_id': row[1], 'inputs_fingerprint': row[2],
               'data_as_of': row[3]}) }}
{%- endmacro %}

{#- A hash of what the incremental models' figures depend on besides the loaded rows: the project's code
    (models, macros, vars; hashed by `reformwh build` before dbt runs, reformwh/pipeline.py) and the
    reference data. -#}
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

{#- The fingerprint of this model's inputs: models that only de-duplicate loaded rows declare
    meta={'reads_reference_data': false}, so that a change of reference data leaves them as they are. -#}
{% macro model_inputs_fingerprint() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {{ return(inputs_fingerprint(reference_data=config.get('meta', {}).get('reads_reference_data', true))) }}
{%- endmacro %}

{#- The newest load id this model has processed, when it can build incrementally; none when it must build
    over all loads (first build, --full-refresh, or changed inputs). -#}
{% macro incremental_since() -%}
    {#- unit tests have no relation of their own: they test the build over everything -#}
    {%- if not execute or this is none or not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- set state = incremental_state(this.identifier) -%}
    {%- if state is none or state.inputs_fingerprint != model_inputs_fingerprint() -%}{{ return(none) }}{%- endif -%}
    {{ return(state.through_load_id) }}
{%- endmacro %}

{#- `load_id > since` for the rows an incremental build processes; true on a build over everything. -#}
{% macro loads_since(since, column='load_id') -%}
    {%- if since is none -%}true{%- else -%}{{ column }} > {{ since }}{%- endif -%}
{%- endmacro %}

{#- post_hook of every incremental model: what it has now processed. -#}
{% macro record_incremental_state(data_as_of_sql='null') -%}
    {%- set since = incremental_since() -%}
    insert into intermediate.incremental_state as s (
        model, since_load_id, through_load_id, inputs_fingerprint, data_as_of, built_at
    )
    values (
        '{{ this.identifier }}',
        {{ since if since is not none else 0 }},
        (select coalesce(max(load_id), 0) from {{ source('audit', 'file_loads') }}),
        '{{ model_inputs_fingerprint() }}',
        ({{ data_as_of_sql }}),
        now()
    )
    on conflict (model) do update set
        since_load_id = excluded.since_load_id,
        through_load_id = excluded.through_load_id,
        inputs_fingerprint = excluded.inputs_fingerprint,
        data_as_of = excluded.data_as_of,
        built_at = excluded.built_at
{%- endmacro %}

{#- The dossier codes with a version in a load this model has not processed yet (all, on a full build). -#}
{% macro dossiers_with_new_versions() -%}
    select new_versions.dossier_code
    from {{ ref('stg_one_stop_shop__dossiers') }} as new_versions
    where {{ loads_since(incremental_since(), 'new_versions.load_id') }}
{%- endmacro %}

{#- The periods int_unit_field_periods_counted counts again, as a list (constants plan better than a join). -#}
{% macro affected_period_keys() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set result = run_query('select period_key from ' ~ ref('int_dossier_periods_affected') ~ ' order by 1') -%}
    {{ return(result.columns[0].values() | list) }}
{%- endmacro %}

{#- Texts as an SQL list of constants; an empty list matches nothing. -#}
{% macro sql_text_list(values) -%}
    {%- for value in values %}'{{ value | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%}
    {{- 'null' if not values -}}
{%- endmacro %}
