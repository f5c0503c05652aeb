-- One row per unit version (SCD2) with the unit that carries its work today.
with units as (
    select * from {{ ref('stg_reference__units') }}
),

current_units as (
    select
        unit_code,
        chain_unit_code as current_unit_code
    from {{ ref('int_unit_chains_walked') }}
    where is_chain_end
)

select
    cast(units.unit_code as text) as unit_code,
    cast(units.unit_name as text) as unit_name,
    cast(units.unit_level as text) as unit_level,
    cast(units.parent_code as text) as parent_code,
    cast(units.valid_from as date) as valid_from,
    cast(units.valid_to as date) as valid_to,
    cast(units.successor_code as text) as successor_code,
    cast(coalesce(current_units.current_unit_code, units.unit_code) as text) as current_unit_code,
    cast(units.has_procedures as boolean) as has_procedures,
    cast(last_versions.unit_code is not null as boolean) as is_current_version
from units
left join current_units on units.unit_code = current_units.unit_code
left join {{ ref('int_units_current') }} as last_versions
    on
        units.unit_code = last_versions.unit_code
        and units.valid_from = last_versions.valid_from
