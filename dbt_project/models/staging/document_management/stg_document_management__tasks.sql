-- Allow-list of columns: free text (Nội dung) and extra columns stay in raw.
with source as (
    select * from {{ source('document_management', 'document_management__tasks') }}
)

select
    task_id,
    unit_code,
    assigning_document_number,
    assigned_by,
    assigned_at_parsed as assigned_at,
    deadline_at_parsed as deadline_at,
    original_deadline_at_parsed as original_deadline_at,
    completed_at_parsed as completed_at,
    load_id,
    source_line,
    extracted_at
from source
