-- sqlfluff:indentation:template_blocks_indent:false
-- A dossier is taken at its newest version: newest extraction wins whatever the load order;
-- on equal extraction times the later load, then the later line. Same columns as staging.
-- Incremental: the new loads' versions compete with the version kept so far (macros/incremental.sql).
{{ config(
    materialized='incremental',
    unique_key='dossier_code',
    incremental_strategy='delete+insert',
    indexes=[
        {'columns': ['dossier_code'], 'unique': true},
        {'columns': ['load_id']},
        {'columns': ['extracted_at']},
    ],
    post_hook="{{ record_incremental_state() }}",
    meta={'reads_reference_data': false},
) }}

{%- set since = incremental_since() %}

with new_versions as (
    select * from {{ ref('stg_one_stop_shop__dossiers') }}
    where {{ loads_since(since) }}
),

candidates as (
    select * from new_versions
    {%- if since is not none %}

    union all

    select kept.*
    from {{ this }} as kept
    where kept.dossier_code in (select new_versions.dossier_code from new_versions)
    {%- endif %}
)

select distinct on (dossier_code) *  -- noqa: AM04
from candidates
order by dossier_code asc, extracted_at desc, load_id desc, source_line desc
