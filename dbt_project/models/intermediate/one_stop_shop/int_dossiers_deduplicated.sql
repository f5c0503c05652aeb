-- A dossier is taken at its newest version: newest extraction wins whatever the load order;
-- on equal extraction times the later load, then the later line. Same columns as staging.
select distinct on (dossier_code) *  -- noqa: AM04
from {{ ref('stg_one_stop_shop__dossiers') }}
order by dossier_code asc, extracted_at desc, load_id desc, source_line desc
