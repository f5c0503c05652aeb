-- Each unit code's succession chain (step 0 = itself), following successor_code transitively.
-- The successor is taken from the code's last version (the one that closed it).
with recursive last_versions as (
    select
        unit_code,
        successor_code
    from {{ ref('int_units_current') }}
),

chains as (
    select
        unit_code,
        0 as step,
        unit_code as chain_unit_code,
        successor_code as next_unit_code
    from last_versions

    union all

    select
        chains.unit_code,
        chains.step + 1 as step,
        last_versions.unit_code as chain_unit_code,
        last_versions.successor_code as next_unit_code
    from chains
    inner join last_versions on chains.next_unit_code = last_versions.unit_code
    -- a guard against a cycle in bad reference data
    where chains.step < 50
)

select
    unit_code,
    step,
    chain_unit_code,
    step = max(step) over (partition by unit_code) as is_chain_end
from chains
