-- Document and task counts per (period, unit), domain.md §4. Documents count by their date; tasks by
-- their deadline; overdue tasks are judged at the earlier of the period's end and the newest
-- document-management extraction.
with periods as (
    select * from {{ ref('int_periods_evaluated') }}
),

freshness as (
    select * from {{ ref('int_document_extractions_dated') }}
),

documents as (
    select
        periods.period_key,
        d.unit_code,
        count(*) filter (where d.register = 'outgoing') as docs_outgoing,
        count(*) filter (where d.register = 'outgoing' and d.is_electronic) as docs_outgoing_electronic,
        count(*) filter (
            where d.register = 'outgoing' and d.is_electronic and d.is_digitally_signed
        ) as docs_digitally_signed,
        count(*) filter (where d.register = 'outgoing' and d.is_leader_signed) as docs_leader_signed,
        count(*) filter (
            where d.register = 'outgoing' and d.is_leader_signed and d.is_digitally_signed
        ) as docs_leader_digitally_signed,
        count(*) filter (where d.register = 'incoming') as docs_incoming,
        count(*) filter (where d.register = 'incoming' and d.is_electronic) as docs_incoming_electronic
    from {{ ref('int_documents_deduplicated') }} as d
    inner join periods on d.document_date between periods.start_date and periods.end_date
    group by periods.period_key, d.unit_code
),

task_periods as (
    select
        periods.period_key,
        t.unit_code,
        t.deadline_at,
        t.completed_at,
        t.deadline_at::date between periods.start_date and periods.end_date as is_due_in_period,
        least(periods.end_date + interval '23:59:59', freshness.tasks_as_of) as evaluation_time
    from {{ ref('int_tasks_deduplicated') }} as t
    cross join freshness
    inner join periods on t.deadline_at::date <= periods.end_date
    -- a task without a deadline is kept but counted in none of these
    where t.deadline_at is not null
),

tasks as (
    select
        period_key,
        unit_code,
        count(*) filter (where is_due_in_period) as tasks_due,
        count(*) filter (where is_due_in_period and completed_at <= deadline_at) as tasks_done_on_time,
        count(*) filter (where is_due_in_period and completed_at > deadline_at) as tasks_done_late,
        count(*) filter (
            where deadline_at < evaluation_time and (completed_at is null or completed_at > evaluation_time)
        ) as tasks_overdue_at_period_end
    from task_periods
    group by period_key, unit_code
)

select
    coalesce(documents.period_key, tasks.period_key) as period_key,
    coalesce(documents.unit_code, tasks.unit_code) as unit_code,
    coalesce(documents.docs_outgoing, 0) as docs_outgoing,
    coalesce(documents.docs_outgoing_electronic, 0) as docs_outgoing_electronic,
    coalesce(documents.docs_digitally_signed, 0) as docs_digitally_signed,
    coalesce(documents.docs_leader_signed, 0) as docs_leader_signed,
    coalesce(documents.docs_leader_digitally_signed, 0) as docs_leader_digitally_signed,
    coalesce(documents.docs_incoming, 0) as docs_incoming,
    coalesce(documents.docs_incoming_electronic, 0) as docs_incoming_electronic,
    coalesce(tasks.tasks_due, 0) as tasks_due,
    coalesce(tasks.tasks_done_on_time, 0) as tasks_done_on_time,
    coalesce(tasks.tasks_done_late, 0) as tasks_done_late,
    coalesce(tasks.tasks_overdue_at_period_end, 0) as tasks_overdue_at_period_end,
    freshness.documents_as_of
from documents
full outer join tasks
    on
        documents.period_key = tasks.period_key
        and documents.unit_code = tasks.unit_code
cross join freshness
