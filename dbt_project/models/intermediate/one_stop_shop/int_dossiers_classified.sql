-- sqlfluff:indentation:template_blocks_indent:false
-- Per dossier (newest version): whether it counts, when processing ended, its outcome and
-- its processing time in working days (domain.md §3).
-- Incremental: only dossiers whose kept version changed (it carries the new load's id). The rows they replace
-- are kept, whole, in intermediate.int_dossiers_classified_replaced until the next build (pre-hook
-- keep_replaced_dossiers): int_dossier_periods_affected and int_unit_procedure_periods_counted count periods
-- by difference, the dossiers as they are now minus as they were. The span, unit, field and procedure
-- before are also kept here as previous_* columns, which name the periods and groups that lose a dossier.
-- The index on the latest of received_at, end_at and due_at finds the dossiers whose flags the data's time moves
-- (dossiers_moved_by_time).
{{ config(
    materialized='incremental',
    unique_key='dossier_code',
    incremental_strategy='delete+insert',
    indexes=[
        {'columns': ['dossier_code'], 'unique': true},
        {'columns': ['load_id']},
        {'columns': ['written_in_batch']},
        {'columns': ['(greatest(received_at, end_at, due_at))']},
    ],
    **incremental_hooks('int_dossiers_deduplicated', extra_pre_hook='{{ keep_replaced_dossiers() }}'),
) }}

{%- set incremental = builds_incrementally() %}

with dossiers as (
    select * from {{ ref('int_dossiers_deduplicated') }}
    where {{ claimed_loads_only(incremental) }}
),

calendar_days as (
    select * from {{ ref('int_calendar_days_numbered') }}
),

-- the dossiers as this model last kept them (none on a build over everything)
previous as (
    {%- if incremental %}
    select
        dossier_code,
        received_at,
        end_at,
        unit_code,
        field_code,
        procedure_code,
        open_facts_hash
    from {{ replaced_dossiers() }}
    {%- else %}
    select
        null::text as dossier_code,
        null::timestamp as received_at,
        null::timestamp as end_at,
        null::text as unit_code,
        null::text as field_code,
        null::text as procedure_code,
        null::bigint as open_facts_hash
    where false
    {%- endif %}
),

ended as (
    select
        *,
        received_at is not null and status_code not in (1, 3) as is_counted,
        case
            when status_code in (9, 10) then coalesce(finished_at, returned_at)
            when status_code in (7, 8) then coalesce(finished_at, refused_at)
        end as end_at,
        coalesce(status_code in (5, 6), false) as is_waiting_on_citizen
    from dossiers
),

classified as (
    select
        *,
        end_at is not null as is_finished,
        case
            when end_at is null then 'in_progress'
            when status_code in (7, 8) then 'on_time'
            -- asking the citizen for documents twice counts as overdue (national index)
            when supplement_count > 1 then 'late'
            when end_at > due_at then 'late'
            when end_at::date < due_at::date then 'ahead'
            else 'on_time'
        end as outcome,
        -- everything a period that ends while the dossier is still open counts of it
        -- (int_dossier_periods_flagged, dossier_count_aggregates): a new version that keeps this hash and is
        -- open at a period's end, as its old one was, changes nothing in that period (int_dossier_periods_affected)
        hashtextextended(row(
            is_counted, received_at, due_at, unit_code, field_code, field_name, procedure_code, procedure_name,
            channel, service_level, digitized, fee_amount, online_payment, apology_issued,
            coalesce(supplement_count, 0) > 1, is_waiting_on_citizen
        )::text, 0) as open_facts_hash
    from ended
)

select
    classified.dossier_code,
    classified.procedure_code,
    classified.procedure_name,
    classified.field_code,
    classified.field_name,
    classified.unit_code,
    classified.channel,
    classified.service_level,
    classified.received_at,
    classified.due_at,
    classified.end_at,
    classified.status_code,
    classified.digitized,
    classified.online_payment,
    classified.fee_amount,
    classified.supplement_count,
    classified.apology_issued,
    classified.rating,
    classified.extracted_at,
    classified.is_counted,
    classified.is_finished,
    classified.is_waiting_on_citizen,
    classified.outcome,
    classified.open_facts_hash,
    -- working days in (received date, end date]
    end_day.working_day_number - received_day.working_day_number as processing_working_days,
    classified.load_id,
    previous.received_at as previous_received_at,
    previous.end_at as previous_end_at,
    previous.dossier_code is not null as has_previous_version,
    previous.unit_code as previous_unit_code,
    previous.field_code as previous_field_code,
    previous.procedure_code as previous_procedure_code,
    previous.open_facts_hash as previous_open_facts_hash,
    -- this model's batch that wrote the row: fct_dossier publishes only the rows written since its last publication
    (
        select s.batch from intermediate.incremental_state as s
        where s.model = '{{ this.identifier }}'
    ) as written_in_batch
from classified
left join calendar_days as received_day
    on classified.received_at::date = received_day.calendar_date
left join calendar_days as end_day
    on classified.end_at::date = end_day.calendar_date
left join previous
    on classified.dossier_code = previous.dossier_code
