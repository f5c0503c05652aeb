{#- Primary-key test on several columns: no combination repeats and none of its columns is NULL. -#}
{% test unique_combination(model, combination_of_columns) %}
    {%- set cols = combination_of_columns | join(', ') %}
    select {{ cols }}, count(*) as n_rows
    from {{ model }}
    group by {{ cols }}
    having count(*) > 1
    union all
    select {{ cols }}, 1 as n_rows
    from {{ model }}
    where {% for c in combination_of_columns %}{{ c }} is null{{ ' or ' if not loop.last }}{% endfor %}
{% endtest %}

{#- Every rate column of a row lies in [0, 1] (NULL allowed: zero denominator). -#}
{% test rates_between_0_and_1(model, column_names) %}
    select *
    from {{ model }}
    where {% for c in column_names %}{{ c }} not between 0 and 1{{ ' or ' if not loop.last }}{% endfor %}
{% endtest %}

{#- The conservation identities of domain.md §3 on every row of a period mart. -#}
{% test dossier_conservation(model) %}
    select *
    from {{ model }}
    where received_in_period + carried_over <> resolved_total + in_progress_total
        or resolved_total <> resolved_ahead + resolved_on_time + resolved_late
        or in_progress_total <> in_progress_overdue + in_progress_on_time
        or late_total <> resolved_late + in_progress_overdue
{% endtest %}

{#- Row identities and "of those" subsets of domain.md §3–5, each written `a + b = c` or `x <= y`. An equation
    holds where both sides are NULL (a unit without procedures) and fails where only one is; an inequality is
    not judged where a side is NULL. -#}
{% test kpi_identities(model, equations) %}
    {#- one row per broken identity with its row count: dbt reports the rows that break one, not the identities -#}
    {{ config(fail_calc='coalesce(sum(n_rows), 0)') }}
    {%- for equation in equations %}
        {%- if '<=' in equation %}
            {%- set sides = equation.split('<=') %}
            {%- set violation = '(' ~ sides[0] ~ ') > (' ~ sides[1] ~ ')' %}
        {%- else %}
            {%- set sides = equation.split('=') %}
            {%- set violation = '(' ~ sides[0] ~ ') is distinct from (' ~ sides[1] ~ ')' %}
        {%- endif %}
    select '{{ equation }}' as broken_identity, count(*) as n_rows
    from {{ model }}
    where {{ violation }}
    having count(*) > 0
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endtest %}

{#- Primary key of a large incremental table: the unique index that enforces it exists (no insert can then
    repeat a key) and no key is NULL (the index answers). `unique` would read every row on every build, which
    grows with history (2 s per million dossiers per table). -#}
{% test primary_key_indexed(model, column_name) %}
    select 'no unique index on {{ column_name }}' as problem
    where not exists (
        select 1
        from pg_index as i
        inner join pg_attribute as a on i.indrelid = a.attrelid and i.indkey[0] = a.attnum
        where
            i.indrelid = (quote_ident('{{ model.schema }}') || '.' || quote_ident('{{ model.identifier }}'))::regclass
            and i.indisunique and i.indnkeyatts = 1 and a.attname = '{{ column_name }}'
    )
    union all
    select 'NULL {{ column_name }}' as problem
    from (select 1 from {{ model }} where {{ column_name }} is null limit 1) as nulls
{% endtest %}
