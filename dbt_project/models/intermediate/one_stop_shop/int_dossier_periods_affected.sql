-- sqlfluff:indentation:template_blocks_indent:false
-- What int_unit_procedure_periods_counted counts again in this build, at its grain (period, as-was unit,
-- field, procedure). Whole periods (unit_code NULL): every started period when that model builds over
-- everything; otherwise the periods whose evaluation time may have moved (not ended by the data's time at the
-- last count, or started since) and the periods where a changed dossier moved to another unit, field or
-- procedure. In the other (ended) periods, only the groups of the changed dossiers whose span, now or before
-- the change, overlaps the period, and not where the dossier was open at the period's end in both versions
-- with the same open facts (int_dossiers_classified.open_facts_hash): a dossier finished today that was
-- received last year counts nothing again in last year's periods if only its end and status moved.
-- A group of an ended period is counted by difference (by_difference: its counts plus the changed dossiers'
-- rows as they are now, minus as they were) unless a changed dossier leaves it or is there under another name
-- (the group's names are a max, which cannot be undone): then its dossiers are counted again.
-- depends_on: {{ ref('int_dossiers_classified') }}
-- depends_on: {{ ref('int_dossier_units_as_was') }}
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

select
    periods.period_key,
    null::text as unit_code,
    null::text as field_code,
    null::text as procedure_code,
    null::boolean as by_difference
from periods
{%- else %},

changed as (
    select
        unit_code,
        coalesce(field_code, '') as field_code,
        procedure_code,
        received_at,
        end_at,
        previous_received_at,
        previous_end_at,
        has_previous_version and (
            previous_unit_code is distinct from unit_code
            or previous_field_code is distinct from field_code
            or previous_procedure_code is distinct from procedure_code
        ) as changed_group,
        has_previous_version and open_facts_hash = previous_open_facts_hash as open_facts_kept,
        least(coalesce(end_at, 'infinity'), coalesce(previous_end_at, 'infinity')) as open_until
    from {{ ref('int_dossiers_classified') }}
    where load_id in ({{ claimed_loads('int_dossiers_classified') }})
),

spans as (
    select
        unit_code,
        field_code,
        procedure_code,
        changed_group,
        open_facts_kept,
        open_until,
        received_at,
        end_at
    from changed
    where received_at is not null

    union all

    select
        unit_code,
        field_code,
        procedure_code,
        changed_group,
        open_facts_kept,
        open_until,
        previous_received_at as received_at,
        previous_end_at as end_at
    from changed
    where previous_received_at is not null
),

overlapping as (
    select
        periods.period_key,
        spans.unit_code,
        spans.field_code,
        spans.procedure_code,
        spans.changed_group
    from periods
    inner join spans
        on
            periods.end_date + interval '23:59:59' >= spans.received_at
            and (spans.end_at is null or periods.start_date <= spans.end_at)
    -- a period that ended with the dossier open in both versions, whose open facts are the same: nothing moved
    -- in it (a dossier finished today that was received last year; in January, most of the day's dossiers)
    where not (spans.open_facts_kept and spans.open_until > periods.evaluation_time)
),

whole_periods as (
    select periods.period_key
    from periods
    where periods.end_date + interval '23:59:59' > '{{ counted.data_as_of }}'::timestamp

    union

    select overlapping.period_key
    from overlapping
    where overlapping.changed_group
),

groups_named as (
    select distinct
        overlapping.period_key,
        coalesce(as_was.unit_code, overlapping.unit_code) as unit_code,
        overlapping.field_code,
        overlapping.procedure_code
    from overlapping
    left join {{ ref('int_dossier_units_as_was') }} as as_was
        on
            overlapping.period_key = as_was.period_key
            and overlapping.unit_code = as_was.dossier_unit_code
    where overlapping.period_key not in (select whole_periods.period_key from whole_periods)
),

rows_now as (
    select * from ({{ dossier_periods_of(changed_dossiers()) }}) as now_rows
),

rows_before as (
    select * from ({{ dossier_periods_of(replaced_dossiers()) }}) as before_rows
),

-- a group a changed dossier was in under names it is no longer there with (EXCEPT compares NULLs as equal and
-- by hash; a not-exists with "is not distinct from" joined ~200k rows to ~200k by nested loop at 10M)
groups_left as (
    select distinct
        left_rows.period_key,
        left_rows.unit_code,
        coalesce(left_rows.field_code, '') as field_code,
        coalesce(left_rows.procedure_code, '') as procedure_code
    from (
        select
            dossier_code,
            period_key,
            unit_code,
            field_code,
            procedure_code,
            field_name,
            procedure_name
        from rows_before

        except

        select
            dossier_code,
            period_key,
            unit_code,
            field_code,
            procedure_code,
            field_name,
            procedure_name
        from rows_now
    ) as left_rows
)

select
    whole_periods.period_key,
    null::text as unit_code,
    null::text as field_code,
    null::text as procedure_code,
    null::boolean as by_difference
from whole_periods

union all

select
    groups_named.period_key,
    groups_named.unit_code,
    groups_named.field_code,
    groups_named.procedure_code,
    not exists (
        select 1 from groups_left
        where
            groups_left.period_key = groups_named.period_key
            and groups_left.unit_code = groups_named.unit_code
            and groups_left.field_code = groups_named.field_code
            and groups_left.procedure_code = coalesce(groups_named.procedure_code, '')
    ) as by_difference
from groups_named
{%- endif %}
