-- As-was unit of each (period, dossier): the dossier's own unit if it existed during the
-- period, else the first unit along its successor chain that did; if none did, the chain's
-- last unit (which then gets a run-off row).
-- A view: int_unit_procedure_periods_counted reads it for the periods a build must count again, so the
-- (period x dossier) rows, many times the dossiers, are never stored.
{{ config(materialized='view') }}

with flagged as (
    select * from {{ ref('int_dossier_periods_flagged') }}
),

periods as (
    select period_key from {{ ref('int_periods_evaluated') }}
),

chains as (
    select * from {{ ref('int_unit_chains_walked') }}
),

existing as (
    select * from {{ ref('int_unit_periods_existing') }}
),

-- the as-was unit depends only on the period and the dossier's unit, so it is chosen once per (period,
-- unit), not per dossier: (flagged is then read once, and a filter on period_key reaches the dossiers)
candidates as (
    select
        periods.period_key,
        chains.unit_code,
        chains.chain_unit_code,
        row_number() over (
            partition by periods.period_key, chains.unit_code
            order by
                (existing.unit_code is not null) desc,
                -- the first existing unit, or failing that the chain's last one
                case when existing.unit_code is not null then chains.step else -chains.step end asc
        ) as candidate_rank
    from periods
    cross join chains
    left join existing
        on
            periods.period_key = existing.period_key
            and chains.chain_unit_code = existing.unit_code
),

chosen as (
    select
        period_key,
        unit_code as dossier_unit_code,
        chain_unit_code as unit_code
    from candidates
    where candidate_rank = 1
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
