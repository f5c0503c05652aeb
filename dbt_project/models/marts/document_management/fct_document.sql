-- Register entries at their newest version; no personal data (the signer's name stays in raw).
select
    cast(document_id as text) as document_id,
    cast(document_number as text) as document_number,
    cast(document_date as date) as document_date,
    cast(document_type as text) as document_type,
    cast(unit_code as text) as unit_code,
    cast(register as text) as register,
    cast(form as text) as form,
    cast(is_electronic as boolean) as is_electronic,
    cast(is_digitally_signed as boolean) as is_digitally_signed,
    cast(is_leader_signed as boolean) as is_leader_signed,
    cast(extracted_at as timestamp) as extracted_at
from {{ ref('int_documents_deduplicated') }}
