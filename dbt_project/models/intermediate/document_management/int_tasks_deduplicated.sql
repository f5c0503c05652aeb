-- A task of an assignee unit at its newest version (newest extraction wins, then the later load and line).
select distinct on (task_id, unit_code)  -- noqa: AM04
    task_id,
    unit_code,
    assigning_document_number,
    assigned_by,
    assigned_at,
    deadline_at,
    original_deadline_at,
    completed_at,
    extracted_at,
    load_id
from {{ ref('stg_document_management__tasks') }}
order by task_id asc, unit_code asc, extracted_at desc, load_id desc, source_line desc
