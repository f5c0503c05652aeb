-- Every unit version (SCD2) with the unit that carries its work today and whether it is the code's
-- current version: what dim_unit publishes, so the mart reads no staging model.
with current_units as (
    select
        unit_code,
        chain_unit_code as current_unit_code
    from {{ ref('int_unit_chains_walked') }}
    where is_chain_end
)

select
    units.unit_code,
    units.unit_name,
    units.unit_level,
    units.parent_code,
    units.valid_from,
    units.valid_to,
    units.successor_code,
    coalesce(current_units.current_unit_code, units.unit_code) as current_unit_code,
    units.has_procedures,
    last_versions.unit_code is not null as is_current_version
from {{ ref('stg_reference__units') }} as units
left join current_units on units.unit_code = current_units.unit_code
left join {{ ref('int_units_current') }} as last_versions
    on
        units.unit_code = last_versions.unit_code
        and units.valid_from = last_versions.valid_from
