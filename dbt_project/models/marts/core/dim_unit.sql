-- One row per unit version (SCD2) with the unit that carries its work today.
select
    cast(unit_code as text) as unit_code,
    cast(unit_name as text) as unit_name,
    cast(unit_level as text) as unit_level,
    cast(parent_code as text) as parent_code,
    cast(valid_from as date) as valid_from,
    cast(valid_to as date) as valid_to,
    cast(successor_code as text) as successor_code,
    cast(current_unit_code as text) as current_unit_code,
    cast(has_procedures as boolean) as has_procedures,
    cast(is_current_version as boolean) as is_current_version
from {{ ref('int_unit_versions_listed') }}
