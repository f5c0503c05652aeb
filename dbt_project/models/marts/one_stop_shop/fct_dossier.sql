-- One row per dossier at its newest version: a copy of int_dossiers_published, which keeps the incremental
-- state (a mart is built afresh in marts_build on every build, then published: reformwh/pipeline.py).
{{ config(indexes=[{'columns': ['dossier_code'], 'unique': true}, {'columns': ['unit_code']}]) }}

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
