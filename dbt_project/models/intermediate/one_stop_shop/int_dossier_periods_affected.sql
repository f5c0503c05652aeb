-- sqlfluff:indentation:template_blocks_indent:false
-- The periods whose dossier counts int_unit_procedure_periods_counted must redo in this build: every started
-- period when that model builds over everything; otherwise the periods whose evaluation time may have
-- moved (not ended by the data's time at the last count, or started since) and the periods that a
-- changed dossier enters or leaves (its span now or before the change overlaps the period).
-- depends_on: {{ ref('int_dossiers_classified') }}
{%- set counted = incremental_state('int_unit_procedure_periods_counted') %}
{#- classified's previous_* columns describe the dossiers as counted only if the counts have seen exactly the
    loads classified had seen before its current batch -#}
{%- set everything = counted is none or counted.data_as_of is none
    or counted.inputs_fingerprint != inputs_fingerprint()
    or not processed_same_loads('int_unit_procedure_periods_counted', 'int_dossiers_classified') %}

with periods as (
    select * from {{ ref('int_periods_evaluated') }}
)
{%- if everything %}

select periods.period_key
from periods
{%- else %},

changed as (
    select
        dossier_code,
        received_at,
        end_at,
        previous_received_at,
        previous_end_at
    from {{ ref('int_dossiers_classified') }}
    where load_id in ({{ claimed_loads('int_dossiers_classified') }})
),

spans as (
    select
        received_at,
        end_at
    from changed
    where received_at is not null

    union

    select
        previous_received_at as received_at,
        previous_end_at as end_at
    from changed
    where previous_received_at is not null
)

select periods.period_key
from periods
where
    periods.end_date + interval '23:59:59' > '{{ counted.data_as_of }}'::timestamp
    or exists (
        select 1
        from spans
        where
            spans.received_at <= periods.end_date + interval '23:59:59'
            and (spans.end_at is null or spans.end_at >= periods.start_date)
    )
{%- endif %}
