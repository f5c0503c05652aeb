-- sqlfluff:indentation:template_blocks_indent:false
-- A register entry at its newest version (newest extraction wins, then the later load and line),
-- with the flags the document KPIs count (domain.md §4).
-- Incremental: the new loads' versions compete with the version kept so far (macros/incremental.sql).
{{ config(
    materialized='incremental',
    unique_key='document_id',
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['document_id'], 'unique': true}, {'columns': ['extracted_at']}],
    meta={'reads_reference_data': false},
    **incremental_hooks('source:document_management'),
) }}

with latest as (
    {{ newest_versions(
        ref('stg_document_management__documents'),
        ['document_id'],
        ['document_id', 'document_number', 'document_date', 'document_type', 'unit_code', 'register', 'form',
         'digitally_signed', 'signer_title', 'extracted_at', 'load_id', 'source_line'],
        builds_incrementally(),
    ) | indent(4) }}
)

select
    document_id,
    document_number,
    {{ normalize_document_number('document_number') }} as document_number_normalized,
    document_date,
    extract(year from document_date)::integer as document_year,
    document_type,
    unit_code,
    register,
    form,
    form in ('electronic', 'electronic_and_paper') as is_electronic,
    digitally_signed is true as is_digitally_signed,
    coalesce({{ is_leader_title('signer_title') }}, false) as is_leader_signed,
    -- as received, for the next incremental build's comparison
    digitally_signed,
    signer_title,
    extracted_at,
    load_id,
    source_line
from latest
