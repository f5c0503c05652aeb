-- Province-wide figures per period: as-was rows summed (run-off rows included), rates
-- recomputed from the sums. Periods that end before a source's first loaded day have NULL figures of it.
with as_was as (
    select * from {{ ref('int_unit_periods_aggregated') }}
),

periods as (
    select * from {{ ref('int_periods_evaluated') }}
),

summed as (
    select
        period_key,
        max(documents_as_of) as documents_as_of,
        {{ dossier_count_sums() }},
        {{ document_count_sums() }}
    from as_was
    group by period_key
),

rated as (
    select
        periods.period_key,
        periods.calendar,
        periods.period_type,
        periods.start_date,
        periods.end_date,
        periods.data_as_of,
        summed.documents_as_of,
        {{ dossier_count_list('summed', zero_fill=true) }},
        {%- for c in document_count_names() %}
            coalesce(summed.{{ c }}, 0) as {{ c }},
        {%- endfor %}
        {{ dossier_rate_columns('summed') }},
        {{ document_rate_columns('summed') }}
    from periods
    left join summed on periods.period_key = summed.period_key
),

coverage as (
    select * from {{ ref('int_data_coverage') }}
)

select
    cast(rated.period_key as text) as period_key,
    cast(rated.calendar as text) as calendar,
    cast(rated.period_type as text) as period_type,
    cast(rated.start_date as date) as period_start,
    cast(rated.end_date as date) as period_end,
    {{ dossier_kpi_select('rated', only_if='rated.end_date >= coverage.dossiers_from') }},
    {{ document_kpi_select('rated', only_if='rated.end_date >= coverage.documents_from') }},
    cast(rated.data_as_of as timestamp) as data_as_of,
    cast(rated.documents_as_of as timestamp) as documents_as_of,
    cast({{ period_is_complete('rated.data_as_of', 'rated.end_date') }} as boolean) as is_complete
from rated
cross join coverage
