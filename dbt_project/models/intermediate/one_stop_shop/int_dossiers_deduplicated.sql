-- A dossier is taken at its newest version: newest extraction wins whatever the load order;
-- on equal extraction times the later load, then the later line.
with ranked as (
    select
        *,
        row_number() over (
            partition by dossier_code
            order by extracted_at desc, load_id desc, source_line desc
        ) as version_rank
    from {{ ref('stg_one_stop_shop__dossiers') }}
)

select
    dossier_code,
    procedure_code,
    procedure_name,
    field_code,
    field_name,
    unit_code,
    channel,
    service_level,
    received_at,
    due_at,
    finished_at,
    returned_at,
    refused_at,
    status_code,
    digitized,
    online_payment,
    fee_amount,
    supplement_count,
    apology_issued,
    rating,
    applicant_id_hash,
    load_id,
    source_file,
    source_line,
    extracted_at
from ranked
where version_rank = 1
