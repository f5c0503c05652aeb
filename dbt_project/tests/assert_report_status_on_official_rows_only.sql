-- Every unit row of the official calendar has a report status (domain.md §5); calendar-calendar rows
-- have none.
with marts as (
    {% for mart in ['reform_quarter', 'reform_semester', 'reform_annual'] %}
        select
            period_key,
            calendar,
            unit_code,
            report_status
        from {{ ref(mart) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select *
from marts
where (calendar = 'official') = (report_status is null)
