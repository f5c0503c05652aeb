-- sqlfluff:indentation:template_blocks_indent:false
-- A task of an assignee unit at its newest version (newest extraction wins, then the later load and line).
-- Incremental: the new loads' versions compete with the version kept so far (macros/incremental.sql).
{{ config(
    materialized='incremental',
    unique_key=['task_id', 'unit_code'],
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['task_id', 'unit_code']}, {'columns': ['extracted_at']}],
    post_hook="{{ record_incremental_state() }}",
    meta={'reads_reference_data': false},
) }}

{%- set since = incremental_since() %}

with new_versions as (
    select
        task_id,
        unit_code,
        assigning_document_number,
        assigned_by,
        assigned_at,
        deadline_at,
        original_deadline_at,
        completed_at,
        extracted_at,
        load_id,
        source_line
    from {{ ref('stg_document_management__tasks') }}
    where {{ loads_since(since) }}
),

candidates as (
    select * from new_versions
    {%- if since is not none %}

    union all

    select kept.*
    from {{ this }} as kept
    where (kept.task_id, kept.unit_code) in (
        select
            new_versions.task_id,
            new_versions.unit_code
        from new_versions
    )
    {%- endif %}
)

select distinct on (task_id, unit_code) *  -- noqa: AM04
from candidates
order by task_id asc, unit_code asc, extracted_at desc, load_id desc, source_line desc
