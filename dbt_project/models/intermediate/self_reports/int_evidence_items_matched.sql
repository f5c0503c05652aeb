-- Evidence matching (domain.md §5): each evidence item of the latest submission of a unit and period, with
-- what it matches — the files of the submission its file name names (with or without extension, any case,
-- by name or path) and the register entries its document number names (the unit's registers and its
-- predecessors', the same year). int_evidence_gaps_detected words the gaps from these counts.
with latest as (
    select * from {{ ref('int_submissions_catalogued') }}
),

items as (
    select
        latest.*,
        items.code,
        items.document_number,
        items.document_date,
        items.file_name,
        items.source_line,
        -- a code of the indicator catalog is an indicator, otherwise a criterion
        indicators.indicator_code is not null as is_indicator
    from latest
    inner join {{ ref('stg_self_reports__evidence_items') }} as items on latest.submission_id = items.submission_id
    left join {{ ref('stg_reference__indicators') }} as indicators
        on
            latest.year = indicators.year
            and latest.unit_level = indicators.unit_level
            and items.code = indicators.indicator_code
),

files as (
    select
        submission_id,
        file_bytes,
        {{ normalize_file_name('file_name') }} as name_folded,
        {{ normalize_file_name('file_path') }} as path_folded
    from {{ ref('stg_self_reports__evidence_files') }}
),

item_files as (
    select
        items.submission_id,
        items.source_line,
        count(files.file_bytes) as matching_files,
        coalesce(bool_or(files.file_bytes > 0), false) as has_content
    from items
    left join files
        on
            items.submission_id = files.submission_id
            and (
                {{ normalize_file_name('items.file_name') }} in (files.name_folded, files.path_folded)
                or (
                    not {{ has_extension('items.file_name') }}
                    and {{ normalize_file_name('items.file_name') }} in (
                        {{ file_name_stem('files.name_folded') }}, {{ file_name_stem('files.path_folded') }}
                    )
                )
            )
    where items.file_name is not null
    group by items.submission_id, items.source_line
),

-- The registers of a unit include those of its predecessors (units whose succession leads to it).
unit_registers as (
    select
        chains.chain_unit_code as unit_code,
        documents.document_number_normalized,
        documents.document_date,
        documents.document_year
    from {{ ref('int_unit_chains_walked') }} as chains
    inner join {{ ref('int_documents_deduplicated') }} as documents on chains.unit_code = documents.unit_code
),

item_documents as (
    select
        items.submission_id,
        items.source_line,
        min(registers.document_date) as registered_date,
        count(registers.document_date) as matching_documents,
        exists(
            select 1
            from unit_registers as any_document
            where
                any_document.unit_code = items.unit_code
                and any_document.document_year = coalesce(extract(year from items.document_date)::integer, items.year)
        ) as has_register
    from items
    left join unit_registers as registers
        on
            items.unit_code = registers.unit_code
            and {{ normalize_document_number('items.document_number') }} = registers.document_number_normalized
            and (items.document_date is null or extract(year from items.document_date) = registers.document_year)
    where items.document_number is not null
    group by items.submission_id, items.source_line, items.unit_code, items.document_date, items.year
)

select
    items.submission_id,
    items.source_line,
    items.period_key,
    items.unit_code,
    items.year,
    items.sent_at,
    items.loaded_at,
    items.code,
    items.is_indicator,
    items.file_name,
    items.document_number,
    items.document_date,
    item_files.matching_files,
    item_files.has_content,
    item_documents.matching_documents,
    item_documents.registered_date,
    item_documents.has_register
from items
left join item_files
    on
        items.submission_id = item_files.submission_id
        and items.source_line = item_files.source_line
left join item_documents
    on
        items.submission_id = item_documents.submission_id
        and items.source_line = item_documents.source_line
