{#-
    The (period x dossier) rows, written once: int_dossier_periods_flagged and int_dossier_periods_assigned are
    these over every dossier; int_dossier_periods_affected and int_unit_procedure_periods_counted apply them to a
    day's dossiers as they are now and as they were at the last count (int_dossiers_classified_replaced, judged
    at the data's time then), to count periods by difference.
-#}

{#- One row per (period, counted dossier of `dossiers`) that has any figure in the period, with its flags.
    start = period start 00:00:00, eval = the period's evaluation time: as of the data's time now, or, with
    `as_of` (a timestamp's text), as of that time. With these definitions
    received_in_period + carried_over = resolved + in_progress holds exactly. -#}
{% macro dossier_periods_flagged(dossiers, as_of=none) -%}
with dossiers as (
    select * from {{ dossiers }}
    where is_counted
),

periods as (
    {%- if as_of %}
    select
        period_key,
        start_at,
        least(end_date + interval '23:59:59', '{{ as_of }}'::timestamp) as evaluation_time
    from {{ ref('int_periods_evaluated') }}
    where start_date <= '{{ as_of }}'::date
    {%- else %}
    select * from {{ ref('int_periods_evaluated') }}
    {%- endif %}
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
{%- endmacro %}

{#- The flagged rows with their as-was unit (int_dossier_units_as_was): the dossier's own unit if it existed
    during the period, else the first unit along its successor chain that did. -#}
{% macro dossier_periods_assigned(flagged) -%}
with flagged as (
    select * from {{ flagged }}
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
{%- endmacro %}

{#- Both, over `dossiers` (a relation or a parenthesised query with int_dossiers_classified's columns). -#}
{% macro dossier_periods_of(dossiers, as_of=none) -%}
    {{ dossier_periods_assigned('(' ~ dossier_periods_flagged(dossiers, as_of) ~ ') as flagged_rows') }}
{%- endmacro %}
