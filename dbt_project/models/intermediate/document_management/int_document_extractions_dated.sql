-- How far the document-management data reaches, once (one row): the newest documents extraction, and the
-- newest of either export that task overdue-ness is judged at.
with documents as (
    select max(extracted_at) as documents_as_of
    from {{ ref('int_documents_deduplicated') }}
),

tasks as (
    select max(extracted_at) as tasks_extracted_at
    from {{ ref('int_tasks_deduplicated') }}
)

select
    documents.documents_as_of,
    greatest(tasks.tasks_extracted_at, documents.documents_as_of) as tasks_as_of
from documents
cross join tasks
