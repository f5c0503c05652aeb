{#- Source freshness (`dbt source freshness`, run by `reformwh freshness` and the ingestion DAGs: dags/README.md).

    dbt judges a source by one value, max_loaded_at, against fixed warn_after / error_after ages. The reporting
    calendar enters through that value (each table's `loaded_at_query` in the sources YAML):
    - a daily export (one-stop shop, document management): its newest extraction, moved forward by the days
      since then that are no working days (weekends, reference.holidays) — so the age dbt measures counts
      working days only, and a Monday or the day after Tết is not "late" (working_day_freshness);
    - self-report submissions: the moment the latest passed submission deadline of a unit level passed, when
      no unit of that level has sent a report for that period by the time judged; else the time judged itself
      (age 0): the age is how long a deadline has been overdue with nothing received (self_report_freshness).

    "Now" (dbt's snapshotted_at) is freshness_now(): the var freshness_as_of (an instant, `reformwh freshness
    --now`), else the day report statuses are judged on (REFORMWH_REPORT_STATUS_AS_OF: a date, at 00:00 in
    Asia/Ho_Chi_Minh; `data`: the end of the newest day the data reaches), else the database's clock. -#}

{% macro freshness_now() -%}
    {%- set as_of = var('freshness_as_of', '') or var('report_status_as_of') -%}
    {%- if var('freshness_as_of', '') -%}
        '{{ as_of }}'::timestamptz
    {%- elif as_of == 'data' -%}
        {#- the newest day as int_unit_reports_statused judges it: one-stop-shop extraction, self-report sent #}
        coalesce(
            (greatest(
                (select max(extracted_at) from {{ source('one_stop_shop', 'one_stop_shop__dossiers') }}),
                (select max(sent_at_parsed) from {{ source('self_reports', 'self_reports__submissions') }})
            )::date + 1)::timestamp at time zone 'Asia/Ho_Chi_Minh',
            current_timestamp
        )
    {%- elif as_of -%}
        ('{{ as_of }}'::date)::timestamp at time zone 'Asia/Ho_Chi_Minh'
    {%- else -%}
        current_timestamp
    {%- endif -%}
{%- endmacro %}

{#- dbt's own freshness queries with freshness_now() in place of the clock (dispatch finds the root project's
    macros first) -#}
{% macro postgres__collect_freshness(source, loaded_at_field, filter) %}
    {% call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
        select max({{ loaded_at_field }}) as max_loaded_at, {{ freshness_now() }} as snapshotted_at
        from {{ source }}
        {% if filter %}where {{ filter }}{% endif %}
    {%- endcall %}
    {{ return(load_result('collect_freshness')) }}
{% endmacro %}

{% macro postgres__collect_freshness_custom_sql(source, loaded_at_query) %}
    {% call statement('collect_freshness_custom_sql', fetch_result=True, auto_begin=False) -%}
        with source_query as (
            {{ loaded_at_query }}
        )
        select (select * from source_query) as max_loaded_at, {{ freshness_now() }} as snapshotted_at
    {%- endcall %}
    {{ return(load_result('collect_freshness_custom_sql')) }}
{% endmacro %}

{#- A daily export's newest extraction (local time), moved forward by the time, up to the moment judged, spent
    on the days after its own that are a Saturday, a Sunday or a holiday: dbt's age is then the working time
    since the extraction. NULL (dbt: never loaded, infinitely old) when nothing was ever loaded. -#}
{% macro working_day_freshness(source_name, table_name) -%}
    with newest as (
        select max(extracted_at) as extracted_at from {{ source(source_name, table_name) }}
    ),

    judged as (
        select {{ freshness_now() }} at time zone 'Asia/Ho_Chi_Minh' as judged_at
    ),

    days_off as (
        select coalesce(sum(least(interval '1 day', judged.judged_at - day)), interval '0 days') as time_off
        from newest, judged,
            generate_series(newest.extracted_at::date + 1, judged.judged_at::date, interval '1 day') as day
        where
            extract(isodow from day) > 5
            or day::date in (select holidays.date from {{ source('reference', 'holidays') }} as holidays)
    )

    select (newest.extracted_at + days_off.time_off) at time zone 'Asia/Ho_Chi_Minh'
    from newest, days_off
{%- endmacro %}

{#- Self-report submissions against reference.reporting_calendar: per unit level, its latest deadline passed by
    the time judged (from the period self-reports are collected from, as the marts judge it: the var
    self_reports_collected_from, else the first period with any submission; and only where units of that level
    exist on the deadline: no district deadlines after the 2025 reorganisation). A deadline with no report
    for its period sent by a unit of its level counts from the moment it passed (the day after the deadline,
    00:00 local); the earliest such moment is max_loaded_at. Nothing overdue: the time judged (age 0).
    A report counts by its sending time (sent_at), so a day judged in the past sees what was sent by then. -#}
{% macro self_report_freshness() -%}
    {%- set collected_from = var('self_reports_collected_from') %}
    with judged as (
        select {{ freshness_now() }} as judged_at
    ),

    submissions as (
        select submissions.period_key, units.unit_level, submissions.sent_at_parsed at time zone 'Asia/Ho_Chi_Minh' as sent_at
        from {{ source('self_reports', 'self_reports__submissions') }} as submissions
        inner join {{ source('reference', 'units') }} as units on submissions.unit_code = units.unit_code
    ),

    deadlines as (
        select
            calendar.period_key,
            calendar.unit_level,
            calendar.submission_deadline,
            (calendar.submission_deadline + 1)::timestamp at time zone 'Asia/Ho_Chi_Minh' as passed_at
        from {{ source('reference', 'reporting_calendar') }} as calendar
        where
            calendar.submission_deadline >= (
                select min(first.submission_deadline)
                from {{ source('reference', 'reporting_calendar') }} as first
                where
                    {%- if collected_from %}
                        first.period_key = '{{ collected_from }}'
                    {%- else %}
                        first.period_key in (select submissions.period_key from submissions)
                    {%- endif %}
            )
            and exists (
                select 1 from {{ source('reference', 'units') }} as units
                where
                    units.unit_level = calendar.unit_level
                    and calendar.submission_deadline between units.valid_from and coalesce(units.valid_to, 'infinity')
            )
    ),

    latest_passed as (
        select distinct on (deadlines.unit_level) deadlines.*
        from deadlines, judged
        where deadlines.passed_at <= judged.judged_at
        order by deadlines.unit_level, deadlines.submission_deadline desc
    )

    select coalesce(min(latest_passed.passed_at), (select judged.judged_at from judged))
    from latest_passed, judged
    where not exists (
        select 1 from submissions
        where
            submissions.period_key = latest_passed.period_key
            and submissions.unit_level = latest_passed.unit_level
            and submissions.sent_at <= judged.judged_at
    )
{%- endmacro %}
