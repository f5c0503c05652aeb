-- The flagged (period, dossier) rows with their as-was unit (int_dossier_units_as_was): the dossier's own
-- unit if it existed during the period, else the first unit along its successor chain that did.
-- A view: int_unit_procedure_periods_counted reads it for what a build must count again, so the
-- (period x dossier) rows, many times the dossiers, are never stored.
{{ config(materialized='view') }}

with flagged as (
    select * from {{ ref('int_dossier_periods_flagged') }}
),

chosen as (
    select * from {{ ref('int_dossier_units_as_was') }}
)

select
    coalesce(chosen.unit_code, flagged.dossier_unit_code) as unit_code,
    flagged.period_key,
    flagged.dossier_code,
    flagged.dossier_unit_code,
    flagged.field_code,
    flagged.field_name,
    flagged.procedure_code,
    flagged.procedure_name,
    flagged.channel,
    flagged.service_level,
    flagged.received_at,
    flagged.due_at,
    flagged.end_at,
    flagged.status_code,
    flagged.digitized,
    flagged.online_payment,
    flagged.fee_amount,
    flagged.supplement_count,
    flagged.apology_issued,
    flagged.rating,
    flagged.outcome,
    flagged.processing_working_days,
    flagged.is_received_in_period,
    flagged.is_carried_over,
    flagged.is_resolved,
    flagged.is_in_progress,
    flagged.is_in_progress_overdue
from flagged
left join chosen
    on
        flagged.period_key = chosen.period_key
        and flagged.dossier_unit_code = chosen.dossier_unit_code
