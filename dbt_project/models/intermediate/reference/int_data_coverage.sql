-- The first day each source's loaded data covers (domain.md §3): a period that ends before it has no data,
-- so its figures are NULL, not 0. Dossiers: the earliest reception; documents and tasks: the earliest
-- document date or task assignment. NULL when the source has nothing loaded.
-- One row, computed once per build: the marts cross join it (inlined as a CTE, the dossier scan ran once
-- per mart column, about 35 times per mart).
select
    (
        select min(received_at)::date from {{ ref('int_dossiers_deduplicated') }}
    ) as dossiers_from,
    least(
        (select min(document_date) from {{ ref('int_documents_deduplicated') }}),
        (select min(assigned_at)::date from {{ ref('int_tasks_deduplicated') }})
    ) as documents_from
