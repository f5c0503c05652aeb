-- sqlfluff:indentation:template_blocks_indent:false
-- One row per dossier at its newest version, from int_dossiers_published (which keeps the incremental state).
-- Built in marts_build with only the dossiers written since the published fct_dossier was last patched
-- (every dossier the first time, or after int_dossiers_published was rebuilt over everything); publication
-- (reformwh/pipeline.py publish_marts) then patches marts.fct_dossier with them in its transaction, or
-- replaces it when they are all the dossiers: copying millions of unchanged rows every day would make the
-- daily build grow with history. Its tests therefore check the day's dossiers.
{{ config(indexes=[{'columns': ['dossier_code'], 'unique': true}, {'columns': ['unit_code']}]) }}

{%- set published_batch = published_dossiers_batch() %}

select
    dossier_code,
    unit_code,
    current_unit_code,
    procedure_code,
    procedure_name,
    field_code,
    field_name,
    channel,
    service_level,
    received_at,
    due_at,
    end_at,
    status_code,
    is_counted,
    outcome,
    supplement_count,
    digitized,
    online_payment,
    fee_amount,
    apology_issued,
    rating,
    processing_working_days,
    extracted_at
from {{ ref('int_dossiers_published') }}
{%- if published_batch is not none %}
where written_in_batch > {{ published_batch }}
{%- endif %}
