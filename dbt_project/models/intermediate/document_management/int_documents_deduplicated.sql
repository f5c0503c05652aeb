-- sqlfluff:indentation:template_blocks_indent:false
-- A register entry at its newest version (newest extraction wins, then the later load and line),
-- with the flags the document KPIs count (domain.md §4).
-- Incremental: the new loads' versions compete with the version kept so far (macros/incremental.sql).
{{ config(
    materialized='incremental',
    unique_key='document_id',
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['document_id'], 'unique': true}, {'columns': ['extracted_at']}],
    post_hook="{{ record_incremental_state() }}",
    meta={'reads_reference_data': false},
) }}

{%- set since = incremental_since() %}

with new_versions as (
    select
        document_id,
        document_number,
        document_date,
        document_type,
        unit_code,
        register,
        form,
        digitally_signed,
        signer_title,
        extracted_at,
        load_id,
        source_line
    from {{ ref('stg_document_management__documents') }}
    where {{ loads_since(since) }}
),

candidates as (
    select * from new_versions
    {%- if since is not none %}

    union all

    select
        kept.document_id,
        kept.document_number,
        kept.document_date,
        kept.document_type,
        kept.unit_code,
        kept.register,
        kept.form,
        kept.digitally_signed,
        kept.signer_title,
        kept.extracted_at,
        kept.load_id,
        kept.source_line
    from {{ this }} as kept
    where kept.document_id in (select new_versions.document_id from new_versions)
    {%- endif %}
),

latest as (
    select distinct on (document_id) *  -- noqa: AM04
    from candidates
    order by document_id asc, extracted_at desc, load_id desc, source_line desc
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
