-- Restating moves figures between units but never creates or loses any: per period the
-- restated sums equal the as-was sums, for every family.
{%- set counts = ['received_in_period', 'carried_over', 'resolved_total', 'in_progress_total'] %}

with family_rows as (
    {%- for family in ['reform_quarter', 'reform_semester', 'reform_annual'] %}
        {%- for suffix in ['', '_restated'] %}
            select
                period_key,
                {{ 'true' if suffix else 'false' }} as is_restated,
                {{ counts | join(', ') }}
            from {{ ref(family ~ suffix) }}
            {{- '\n    union all' if not loop.last }}
        {%- endfor %}
        {{- '\n    union all' if not loop.last }}
    {%- endfor %}
),

compared as (
    select
        period_key,
    {%- for c in counts %}
        sum({{ c }}) filter (where not is_restated) as as_was_{{ c }},
        sum({{ c }}) filter (where is_restated) as restated_{{ c }}{{ ',' if not loop.last }}
    {%- endfor %}
    from family_rows
    group by period_key
)

select period_key
from compared
where
    false
    {%- for c in counts %}
        or as_was_{{ c }} is distinct from restated_{{ c }}
    {%- endfor %}
