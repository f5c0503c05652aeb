-- Allow-list of columns: the signer's name and extra columns stay in raw.
with source as (
    select * from {{ source('document_management', 'document_management__documents') }}
)

select
    document_id,
    document_number,
    document_date_parsed as document_date,
    document_type,
    unit_code,
    register_parsed as register,
    form_parsed as form,
    digitally_signed_parsed as digitally_signed,
    signer_title,
    load_id,
    source_line,
    extracted_at
from source
