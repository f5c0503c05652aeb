-- The var self_reports_collected_from, when set, names an official period (else no report would be awaited).
{%- set collected_from = var('self_reports_collected_from') %}
select '{{ collected_from }}' as self_reports_collected_from
where
    '{{ collected_from }}' <> ''
    and not exists (
        select 1 from {{ ref('int_periods_generated') }}
        where calendar = 'official' and period_key = '{{ collected_from }}'
    )
