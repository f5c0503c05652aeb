-- The (period, unit) rows of the as-was marts: every unit that existed during the period,
-- plus run-off rows for units that no longer existed but still have figures assigned.
-- Attributes come from the version valid at the period's end, or the last version before it.
with periods as (
    select * from {{ ref('int_periods_evaluated') }}
),

unit_periods as (
    select
        period_key,
        unit_code,
        true as existed_in_period
    from {{ ref('int_unit_periods_existing') }}

    union all

    select distinct
        counted.period_key,
        counted.unit_code,
        false as existed_in_period
    from {{ ref('int_unit_procedure_periods_counted') }} as counted
    where not exists (
        select 1
        from {{ ref('int_unit_periods_existing') }} as known
        where
            known.period_key = counted.period_key
            and known.unit_code = counted.unit_code
    )
),

versions as (
    select
        unit_periods.period_key,
        unit_periods.unit_code,
        unit_periods.existed_in_period,
        units.unit_name,
        units.unit_level,
        units.has_procedures,
        row_number() over (
            partition by unit_periods.period_key, unit_periods.unit_code
            order by (units.valid_from <= periods.end_date) desc, units.valid_from desc
        ) as version_rank
    from unit_periods
    inner join periods on unit_periods.period_key = periods.period_key
    inner join {{ ref('stg_reference__units') }} as units
        on unit_periods.unit_code = units.unit_code
),

current_units as (
    select
        unit_code,
        chain_unit_code as current_unit_code
    from {{ ref('int_unit_chains_walked') }}
    where is_chain_end
)

select
    periods.period_key,
    periods.calendar,
    periods.period_type,
    periods.start_date as period_start,
    periods.end_date as period_end,
    versions.unit_code,
    versions.unit_name,
    versions.unit_level,
    current_units.current_unit_code,
    versions.has_procedures,
    versions.existed_in_period,
    periods.data_as_of
from versions
inner join periods on versions.period_key = periods.period_key
left join current_units on versions.unit_code = current_units.unit_code
where versions.version_rank = 1
