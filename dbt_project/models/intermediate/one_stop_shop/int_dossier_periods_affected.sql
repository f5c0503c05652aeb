-- sqlfluff:indentation:template_blocks_indent:false
-- What int_unit_procedure_periods_counted counts again in this build, at its grain (period, as-was unit,
-- field, procedure). Whole periods (unit_code NULL): every started period when that model builds over
-- everything; otherwise the periods started since the last count and the periods where a changed dossier moved
-- to another unit, field or procedure. In the other periods, only the groups of the changed dossiers whose span,
-- now or before the change, overlaps the period, and, in the periods that were running at the last count, the
-- groups of the dossiers whose flags the data's time moved since (dossiers_moved_by_time: received, ended or
-- due in between). Not where the dossier was open at an ended period's end in both versions with the same open
-- facts (int_dossiers_classified.open_facts_hash): a dossier finished today that was received last year counts
-- nothing again in last year's periods if only its end and status moved.
-- A group is counted by difference (by_difference: its counts plus the dossiers' rows as they are judged now,
-- minus as they were judged at the last count) unless a changed dossier leaves it or is there under another
-- name (the group's names are a max, which cannot be undone): then its dossiers are counted again. So a day
-- costs what it changed, also in December, when the running year holds most of the year's dossiers.
-- depends_on: {{ ref('int_dossiers_classified') }}
-- depends_on: {{ ref('int_dossier_units_as_was') }}
{%- set counted = incremental_state('int_unit_procedure_periods_counted') %}
{#- classified's previous_* columns describe the dossiers as counted only if the counts have seen exactly the
    loads classified had seen before its current batch -#}
{%- set everything = counted is none or counted.data_as_of is none
    or counted.inputs_fingerprint != inputs_fingerprint()
    or not processed_same_loads('int_unit_procedure_periods_counted', 'int_dossiers_classified') %}
{%- set last_count_at = "'" ~ counted.data_as_of ~ "'::timestamp" if not everything else none %}

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
        end_at,
        false as moved_by_time
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
        previous_end_at as end_at,
        false as moved_by_time
    from changed
    where previous_received_at is not null

    union all

    select
        moved_by_time.unit_code,
        coalesce(moved_by_time.field_code, '') as field_code,
        moved_by_time.procedure_code,
        false as changed_group,
        false as open_facts_kept,
        null::timestamp as open_until,
        moved_by_time.received_at,
        moved_by_time.end_at,
        true as moved_by_time
    from {{ dossiers_moved_by_time(counted.data_as_of) }}
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
    where
        -- a period that had ended at the last count with the dossier open in both versions, whose open facts are
        -- the same: nothing moved in it (a dossier finished today that was received last year; in January, most
        -- of the day's dossiers)
        not (
            spans.open_facts_kept and spans.open_until > periods.evaluation_time
            and periods.end_date + interval '23:59:59' <= {{ last_count_at }}
        )
        -- the data's time moves only the periods that were running
        and (
            not spans.moved_by_time
            or periods.end_date + interval '23:59:59' > {{ last_count_at }}
        )
),

whole_periods as (
    select periods.period_key
    from periods
    where
        -- started since the last count: nothing counted yet
        periods.start_date > {{ last_count_at }}::date
        -- the data's time went back (dossiers purged): a running period's flags go back, which no difference
        -- of the dossiers moved forward gives
        or periods.evaluation_time
        < least(periods.end_date + interval '23:59:59', {{ last_count_at }})

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
