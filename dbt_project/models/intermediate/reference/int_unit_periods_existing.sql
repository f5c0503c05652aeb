-- Unit codes that existed at some time during each period: any version's validity overlaps
-- the period window.
select distinct
    periods.period_key,
    units.unit_code
from {{ ref('int_periods_evaluated') }} as periods
inner join {{ ref('stg_reference__units') }} as units
    on
        periods.end_date >= units.valid_from
        and periods.start_date <= coalesce(units.valid_to, 'infinity'::date)
