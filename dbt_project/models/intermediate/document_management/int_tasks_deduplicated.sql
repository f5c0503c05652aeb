-- sqlfluff:indentation:template_blocks_indent:false
-- A task of an assignee unit at its newest version (newest extraction wins, then the later load and line).
-- Incremental: the new loads' versions compete with the version kept so far (macros/incremental.sql).
{{ config(
    materialized='incremental',
    unique_key=['task_id', 'unit_code'],
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['task_id', 'unit_code']}, {'columns': ['extracted_at']}],
    meta={'reads_reference_data': false},
    **incremental_hooks('source:document_management'),
) }}

{{ newest_versions(
    ref('stg_document_management__tasks'),
    ['task_id', 'unit_code'],
    ['task_id', 'unit_code', 'assigning_document_number', 'assigned_by', 'assigned_at', 'deadline_at',
     'original_deadline_at', 'completed_at', 'extracted_at', 'load_id', 'source_line'],
    builds_incrementally(),
) }}
