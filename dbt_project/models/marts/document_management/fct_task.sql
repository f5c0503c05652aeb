-- Assigned tasks per assignee unit at their newest version, with where each stands today.
select
    cast(task_id as text) as task_id,
    cast(unit_code as text) as unit_code,
    cast(assigning_document_number as text) as assigning_document_number,
    cast(assigned_by as text) as assigned_by,
    cast(assigned_at as timestamp) as assigned_at,
    cast(deadline_at as timestamp) as deadline_at,
    cast(original_deadline_at as timestamp) as original_deadline_at,
    cast(completed_at as timestamp) as completed_at,
    cast(
        case
            when deadline_at is null then 'no_deadline'
            when completed_at <= deadline_at then 'done_on_time'
            when completed_at > deadline_at then 'done_late'
            when deadline_at < extracted_at then 'overdue'
            else 'open'
        end as text
    ) as task_status,
    cast(extracted_at as timestamp) as extracted_at
from {{ ref('int_tasks_deduplicated') }}
