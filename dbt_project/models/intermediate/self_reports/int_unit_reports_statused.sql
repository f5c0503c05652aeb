-- The self-report status of every unit on every official-calendar period row (domain.md §5).
{%- set as_of = var('report_status_as_of') %}
{%- set collected_from = var('self_reports_collected_from') %}
with listed as (
    select * from {{ ref('int_unit_periods_listed') }}
    where calendar = 'official'
),

deadlines as (
    select * from {{ ref('stg_reference__reporting_calendar') }}
),

submissions as (
    select * from {{ ref('int_submissions_ranked') }}
),

-- Reports are awaited from the period in which the province starts collecting them: the configured period,
-- else the first official period with any accepted submission (a configured key that is no official period
-- fails the test assert_self_reports_collection_start_exists). Before any submission, nothing is awaited.
collection as (
    select min(periods.end_date) as first_period_end
    from {{ ref('int_periods_generated') }} as periods
    where
        periods.calendar = 'official'
        {%- if collected_from %}
            and periods.period_key = '{{ collected_from }}'
        {%- else %}
            and periods.period_key in (select submissions.period_key from submissions)
        {%- endif %}
),

-- The newest day the data reaches (one-stop-shop extraction, self-report sent). With report_status_as_of =
-- 'data' statuses are judged on it, so a world that stopped (the demo's sample) raises no alarm for deadlines
-- after its end, whatever the machine's clock says.
horizon as (
    select
        greatest(
            (select max(listed.data_as_of) from listed), (select max(submissions.sent_at) from submissions)
        )::date as data_horizon
),

judged as (
    select
        listed.period_key,
        listed.unit_code,
        listed.unit_level,
        deadlines.submission_deadline,
        first_submission.sent_at as first_sent_at,
        latest_submission.submission_id as latest_submission_id,
        latest_submission.sent_at as latest_sent_at,
        coalesce(latest_submission.submission_count, 0) as submission_count,
        exists(
            select 1
            from {{ ref('stg_reference__units') }} as units
            where
                units.unit_code = listed.unit_code
                and deadlines.submission_deadline between units.valid_from and coalesce(units.valid_to, 'infinity')
        ) as exists_on_deadline,
        {% if as_of == 'data' -%}
            horizon.data_horizon
        {%- elif as_of -%}
            '{{ as_of }}'::date
        {%- else -%}
            (now() at time zone 'Asia/Ho_Chi_Minh')::date
        {%- endif %} as judged_on,
        listed.period_end < collection.first_period_end
        or collection.first_period_end is null as before_collection
    from listed
    cross join collection
    cross join horizon
    left join deadlines
        on
            listed.period_key = deadlines.period_key
            and listed.unit_level = deadlines.unit_level
    left join submissions as first_submission
        on
            listed.unit_code = first_submission.unit_code
            and listed.period_key = first_submission.period_key
            and first_submission.is_first
    left join submissions as latest_submission
        on
            listed.unit_code = latest_submission.unit_code
            and listed.period_key = latest_submission.period_key
            and latest_submission.is_latest
)

select
    period_key,
    unit_code,
    unit_level,
    submission_deadline,
    first_sent_at,
    latest_submission_id,
    latest_sent_at,
    submission_count,
    judged_on,
    case
        when submission_deadline is null or not exists_on_deadline or before_collection then 'not_required'
        when first_sent_at is not null and first_sent_at::date <= submission_deadline then 'on_time'
        when first_sent_at is not null then 'late'
        when judged_on <= submission_deadline then 'awaited'
        else 'missing'
    end as report_status
from judged
