-- Reporting periods of both calendars (domain.md §2) for the configured years. Official windows
-- run 15th to 14th, so Q1, H1 and Y start on 15/12 of the previous year.
with years as (
    select gs::int as period_year
    from generate_series(
        {{ var('period_first_year', 2023) }}, {{ var('period_last_year', 2027) }}
    ) as gs
),

templates as (
    select *
    from (
        values
        -- suffix, calendar, type, start (year offset, month, day), end (month, day),
        -- deadline (month, day), previous (suffix, year offset), display name prefix
        ('Q1', 'official', 'quarter', -1, 12, 15, 3, 14, 3, 20, 'Q4', -1, 'quý I năm '),
        ('Q2', 'official', 'quarter', 0, 3, 15, 6, 14, null, null, 'Q1', 0, 'quý II năm '),
        ('H1', 'official', 'half', -1, 12, 15, 6, 14, 6, 20, 'H2', -1, '6 tháng đầu năm '),
        ('Q3', 'official', 'quarter', 0, 6, 15, 9, 14, 9, 20, 'Q2', 0, 'quý III năm '),
        ('Q4', 'official', 'quarter', 0, 9, 15, 12, 14, null, null, 'Q3', 0, 'quý IV năm '),
        ('H2', 'official', 'half', 0, 6, 15, 12, 14, null, null, 'H1', 0, '6 tháng cuối năm '),
        ('Y', 'official', 'year', -1, 12, 15, 12, 14, 12, 20, 'Y', -1, 'năm '),
        ('CQ1', 'calendar', 'quarter', 0, 1, 1, 3, 31, null, null, 'CQ4', -1, 'quý I (dương lịch) năm '),
        ('CQ2', 'calendar', 'quarter', 0, 4, 1, 6, 30, null, null, 'CQ1', 0, 'quý II (dương lịch) năm '),
        ('CQ3', 'calendar', 'quarter', 0, 7, 1, 9, 30, null, null, 'CQ2', 0, 'quý III (dương lịch) năm '),
        ('CQ4', 'calendar', 'quarter', 0, 10, 1, 12, 31, null, null, 'CQ3', 0, 'quý IV (dương lịch) năm '),
        ('CH1', 'calendar', 'half', 0, 1, 1, 6, 30, null, null, 'CH2', -1, '6 tháng đầu (dương lịch) năm '),
        ('CH2', 'calendar', 'half', 0, 7, 1, 12, 31, null, null, 'CH1', 0, '6 tháng cuối (dương lịch) năm '),
        ('CY', 'calendar', 'year', 0, 1, 1, 12, 31, null, null, 'CY', -1, 'năm (dương lịch) ')
    ) as t (
        suffix, calendar, period_type, start_year_offset, start_month, start_day, end_month, end_day,
        deadline_month, deadline_day, previous_suffix, previous_year_offset, name_prefix
    )
),

periods as (
    select
        years.period_year || '-' || templates.suffix as period_key,
        templates.calendar,
        templates.period_type,
        years.period_year as year,  -- noqa: RF04
        make_date(
            years.period_year + templates.start_year_offset, templates.start_month, templates.start_day
        ) as start_date,
        make_date(years.period_year, templates.end_month, templates.end_day) as end_date,
        case
            when years.period_year + templates.previous_year_offset >= {{ var('period_first_year', 2023) }}
                then (years.period_year + templates.previous_year_offset) || '-' || templates.previous_suffix
        end as previous_period_key,
        case
            when templates.deadline_month is not null
                then make_date(years.period_year, templates.deadline_month, templates.deadline_day)
        end as province_report_deadline,
        templates.name_prefix || years.period_year as period_name
    from years
    cross join templates
)

select * from periods
