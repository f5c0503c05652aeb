-- sqlfluff:indentation:template_blocks_indent:false
-- A dossier is taken at its newest version: newest extraction wins whatever the load order;
-- on equal extraction times the later load, then the later line. Same columns as staging.
-- Incremental: the new loads' versions compete with the version kept so far (macros/incremental.sql).
-- Indexed by received_at for int_data_coverage's min(received_at): a lookup, not a scan of every dossier.
{{ config(
    materialized='incremental',
    unique_key='dossier_code',
    incremental_strategy='delete+insert',
    indexes=[
        {'columns': ['dossier_code'], 'unique': true},
        {'columns': ['load_id']},
        {'columns': ['extracted_at']},
        {'columns': ['received_at']},
    ],
    meta={'reads_reference_data': false},
    **incremental_hooks('source:one_stop_shop'),
) }}

{{ newest_versions(
    ref('stg_one_stop_shop__dossiers'),
    ['dossier_code'],
    ['*'],
    builds_incrementally(),
) }}
