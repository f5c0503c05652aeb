-- sqlfluff:indentation:template_blocks_indent:false
-- One row per dossier at its newest version, from int_dossiers_classified (which keeps the incremental state).
-- No personal data, not even the applicant hash.
-- Built in marts_build with only the dossiers int_dossiers_classified wrote since the published fct_dossier was
-- last patched (every dossier the first time, or after int_dossiers_classified was rebuilt over everything);
-- publication (reformwh/pipeline.py publish_marts) then patches marts.fct_dossier with them in its transaction,
-- or replaces it when they are all the dossiers: copying millions of unchanged rows every day would make the
-- daily build grow with history. Its tests therefore check the day's dossiers.
-- current_unit_code follows dim_unit: a change of the units rebuilds int_dossiers_classified over everything
-- (it reads the reference data, macros/incremental.sql), so every row is then written again and published.
{{ config(indexes=[{'columns': ['dossier_code'], 'unique': true}, {'columns': ['unit_code']}]) }}

{%- set published_batch = published_dossiers_batch() %}

with dossiers as (
    select * from {{ ref('int_dossiers_classified') }}
    {%- if published_batch is not none %}
    where written_in_batch > {{ published_batch }}
    {%- endif %}
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
    cast(dossiers.extracted_at as timestamp) as extracted_at
from dossiers
left join current_units on dossiers.unit_code = current_units.unit_code
