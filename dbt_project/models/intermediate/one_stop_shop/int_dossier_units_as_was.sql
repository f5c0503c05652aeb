-- The as-was unit of a dossier's unit in each period: the unit itself if it existed during the period,
-- else the first unit along its successor chain that did; if none did, the chain's last unit (which then
-- gets a run-off row). It depends only on the period and the dossier's unit, so it is chosen once per
-- (period, unit), not per dossier; int_dossier_periods_affected also maps changed dossiers with it.
-- A table with its key indexed, not a view: as a view its row count was misestimated (87 rows for 11,340) and
-- a day's count joined it by nested loop, 108 million comparisons (145 s instead of 8 s at 110k dossiers).
{{ config(
    materialized='table',
    indexes=[{'columns': ['period_key', 'dossier_unit_code'], 'unique': True}],
) }}

with periods as (
    select period_key from {{ ref('int_periods_evaluated') }}
),

chains as (
    select * from {{ ref('int_unit_chains_walked') }}
),

existing as (
    select * from {{ ref('int_unit_periods_existing') }}
),

candidates as (
    select
        periods.period_key,
        chains.unit_code,
        chains.chain_unit_code,
        row_number() over (
            partition by periods.period_key, chains.unit_code
            order by
                (existing.unit_code is not null) desc,
                -- the first existing unit, or failing that the chain's last one
                case when existing.unit_code is not null then chains.step else -chains.step end asc
        ) as candidate_rank
    from periods
    cross join chains
    left join existing
        on
            periods.period_key = existing.period_key
            and chains.chain_unit_code = existing.unit_code
)

select
    period_key,
    unit_code as dossier_unit_code,
    chain_unit_code as unit_code
from candidates
where candidate_rank = 1
