-- fct_dossier's rows: one per dossier at its newest version. No personal data, not even the applicant hash.
-- Incremental: the dossiers whose kept version changed since the last build (macros/incremental.sql). Kept
-- here, not in the mart: marts are built in schema marts_build and moved into marts when the whole build
-- has passed (reformwh/pipeline.py publish_marts), so a mart never keeps state from one build to the next.
{{ config(
    materialized='incremental',
    unique_key='dossier_code',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['dossier_code'], 'unique': true}, {'columns': ['unit_code']}, {'columns': ['written_in_batch']}],
    **incremental_hooks('int_dossiers_classified'),
) }}

with dossiers as (
    select * from {{ ref('int_dossiers_classified') }}
    where {{ claimed_loads_only(builds_incrementally()) }}
),

-- dim_unit already follows each code's successor chain; every version of a code has the same one.
current_units as (
    select distinct
        unit_code,
        current_unit_code
    from {{ ref('dim_unit') }}
)

select
    cast(dossiers.dossier_code as text) as dossier_code,
    cast(dossiers.unit_code as text) as unit_code,
    cast(coalesce(current_units.current_unit_code, dossiers.unit_code) as text) as current_unit_code,
    cast(dossiers.procedure_code as text) as procedure_code,
    cast(dossiers.procedure_name as text) as procedure_name,
    cast(dossiers.field_code as text) as field_code,
    cast(dossiers.field_name as text) as field_name,
    cast(dossiers.channel as smallint) as channel,
    cast(dossiers.service_level as text) as service_level,
    cast(dossiers.received_at as timestamp) as received_at,
    cast(dossiers.due_at as timestamp) as due_at,
    cast(dossiers.end_at as timestamp) as end_at,
    cast(dossiers.status_code as smallint) as status_code,
    cast(dossiers.is_counted as boolean) as is_counted,
    -- a dossier never received (status 1 or 3) has no outcome
    cast(case when dossiers.is_counted then dossiers.outcome end as text) as outcome,
    cast(dossiers.supplement_count as integer) as supplement_count,
    cast(dossiers.digitized as boolean) as digitized,
    cast(dossiers.online_payment as smallint) as online_payment,
    cast(dossiers.fee_amount as bigint) as fee_amount,
    cast(dossiers.apology_issued as boolean) as apology_issued,
    cast(dossiers.rating as text) as rating,
    cast(dossiers.processing_working_days as integer) as processing_working_days,
    cast(dossiers.extracted_at as timestamp) as extracted_at,
    -- this model's batch that wrote the row: fct_dossier publishes only the rows written since its last publication
    (
        select s.batch from intermediate.incremental_state as s
        where s.model = '{{ this.identifier }}'
    ) as written_in_batch
from dossiers
left join current_units on dossiers.unit_code = current_units.unit_code
