-- One row per (period, counted dossier) that has any figure in the period, with its flags.
-- start = period start 00:00:00, eval = the period's evaluation time. With these definitions
-- received_in_period + carried_over = resolved + in_progress holds exactly.
-- A view: int_unit_procedure_periods_counted reads it for the periods a build must count again, so the
-- (period x dossier) rows, many times the dossiers, are never stored.
{{ config(materialized='view') }}

with dossiers as (
    select * from {{ ref('int_dossiers_classified') }}
    where is_counted
),

periods as (
    select * from {{ ref('int_periods_evaluated') }}
),

joined as (
    select
        periods.period_key,
        periods.start_at,
        periods.evaluation_time,
        dossiers.*
    from periods
    inner join dossiers
        on
            periods.evaluation_time >= dossiers.received_at
            and (dossiers.end_at is null or periods.start_at <= dossiers.end_at)
),

flagged as (
    select
        *,
        received_at >= start_at as is_received_in_period,
        received_at < start_at as is_carried_over,
        end_at is not null and end_at <= evaluation_time as is_resolved,
        end_at is null or end_at > evaluation_time as is_in_progress
    from joined
)

select
    period_key,
    dossier_code,
    unit_code as dossier_unit_code,
    field_code,
    field_name,
    procedure_code,
    procedure_name,
    channel,
    service_level,
    received_at,
    due_at,
    end_at,
    status_code,
    digitized,
    online_payment,
    fee_amount,
    supplement_count,
    apology_issued,
    rating,
    outcome,
    processing_working_days,
    is_received_in_period,
    is_carried_over,
    is_resolved,
    is_in_progress,
    -- two supplement requests count as overdue; waiting on the citizen stops the clock otherwise
    is_in_progress and (
        coalesce(supplement_count, 0) > 1
        or (not is_waiting_on_citizen and due_at < evaluation_time)
    ) as is_in_progress_overdue
from flagged
