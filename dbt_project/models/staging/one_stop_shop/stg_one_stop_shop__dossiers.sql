-- Allow-list of columns: personal data (names, ID numbers, phones, e-mails, free text in
-- extra_columns) never leaves raw; only the keyed hash of the ID number passes.
with source as (
    select * from {{ source('one_stop_shop', 'one_stop_shop__dossiers') }}
)

select
    dossier_code,
    procedure_code,
    procedure_name,
    field_code,
    field_name,
    unit_code,
    channel_parsed as channel,
    service_level_parsed as service_level,
    received_at_parsed as received_at,
    due_at_parsed as due_at,
    finished_at_parsed as finished_at,
    returned_at_parsed as returned_at,
    refused_at_parsed as refused_at,
    status_parsed as status_code,
    digitized_parsed as digitized,
    online_payment_parsed as online_payment,
    fee_amount_parsed as fee_amount,
    supplement_count_parsed as supplement_count,
    apology_issued_parsed as apology_issued,
    rating_parsed as rating,
    applicant_id_hash,
    load_id,
    source_file,
    source_line,
    extracted_at,
    loaded_at
from source
