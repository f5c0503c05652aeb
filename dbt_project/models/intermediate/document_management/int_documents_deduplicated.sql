-- A register entry at its newest version (newest extraction wins, then the later load and line),
-- with the flags the document KPIs count (domain.md §4).
with latest as (
    select distinct on (document_id) *  -- noqa: AM04
    from {{ ref('stg_document_management__documents') }}
    order by document_id asc, extracted_at desc, load_id desc, source_line desc
)

select
    document_id,
    document_number,
    {{ normalize_document_number('document_number') }} as document_number_normalized,
    document_date,
    extract(year from document_date)::integer as document_year,
    document_type,
    unit_code,
    register,
    form,
    form in ('electronic', 'electronic_and_paper') as is_electronic,
    digitally_signed is true as is_digitally_signed,
    coalesce({{ is_leader_title('signer_title') }}, false) as is_leader_signed,
    extracted_at,
    load_id
from latest
