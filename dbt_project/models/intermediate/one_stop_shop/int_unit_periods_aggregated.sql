-- Dossier KPIs per (period, unit) as was. Units without procedures get NULL dossier columns,
-- not zero; units with procedures and no activity get zeros.
with listed as (
    select * from {{ ref('int_unit_periods_listed') }}
),

counts as (
    select
        f.period_key,
        f.unit_code,
        {{ dossier_count_aggregates('f') }}
    from {{ ref('int_dossier_periods_assigned') }} as f
    group by f.period_key, f.unit_code
),

joined as (
    select
        listed.*,
        {%- for c in dossier_count_names() %}
        case when listed.has_procedures then coalesce(counts.{{ c }}, 0) end as {{ c }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from listed
    left join counts
        on
            listed.period_key = counts.period_key
            and listed.unit_code = counts.unit_code
)

select
    *,
    {{ dossier_rate_columns() }}
from joined
