-- Each unit code's last version (the newest valid_from): its current name, level and the successor that
-- closed it. One place for what five models used to re-derive each with its own distinct on / lateral.
select distinct on (unit_code)
    unit_code,
    unit_name,
    unit_level,
    parent_code,
    valid_from,
    valid_to,
    successor_code,
    has_procedures
from {{ ref('stg_reference__units') }}
order by unit_code asc, valid_from desc
