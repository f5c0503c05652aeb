-- sqlfluff:indentation:template_blocks_indent:false
-- Each version of a dossier against the one extracted before it, flagging the changes that
-- sources.md §5 calls suspicious. The newest version still wins; these are warnings only.
-- A received date first given (status 1 -> 2) is progress, not a change; exports that print minutes
-- only, or a date alone, are compared at that precision.
-- Incremental: the dossiers with a version in the new loads are compared again over all their versions
-- (a late-loaded older extraction changes what its neighbours are compared with), except the comparison of
-- each such dossier's first version in raw: it has no version before it in raw, or only an archived one
-- (reformwh archive-raw), so it is kept as it was made.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    indexes=[{'columns': ['dossier_code']}],
    meta={'reads_reference_data': false},
    **incremental_hooks(
        'source:one_stop_shop',
        extra_pre_hook="{% if is_incremental() %}delete from {{ this }} where "
        ~ "{% if builds_incrementally() %}{{ has_new_version('dossier_code') }} "
        ~ "and (dossier_code, extracted_at, source_file, source_line) not in ({{ first_versions_in_raw() }})"
        ~ "{% else %}true{% endif %}"
        ~ "{% endif %}",
    ),
) }}

{%- set incremental = builds_incrementally() %}

with versions as (
    select
        dossier_code,
        unit_code,
        status_code,
        received_at,
        supplement_count,
        apology_issued,
        extracted_at,
        load_id,
        source_file,
        source_line,
        lag(unit_code) over w as previous_unit_code,
        lag(status_code) over w as previous_status_code,
        lag(received_at) over w as previous_received_at,
        lag(supplement_count) over w as previous_supplement_count,
        lag(apology_issued) over w as previous_apology_issued,
        lag(source_file) over w as previous_source_file
    from {{ ref('stg_one_stop_shop__dossiers') }}
    {%- if incremental %}
    where {{ has_new_version('dossier_code') }}
    {%- endif %}
    window w as (partition by dossier_code order by extracted_at, load_id, source_line)
),

compared as (
    select
        *,
        received_at::date <> previous_received_at::date
        or (
            date_trunc('minute', received_at) <> date_trunc('minute', previous_received_at)
            and received_at::time <> '00:00' and previous_received_at::time <> '00:00'
        ) as received_moved
    from versions
)

select
    dossier_code,
    extracted_at,
    source_file,
    source_line,
    previous_source_file,
    previous_status_code in (7, 8, 9, 10) and status_code not in (7, 8, 9, 10) as reopened,
    received_moved as received_changed,
    unit_code <> previous_unit_code as unit_changed,
    supplement_count < previous_supplement_count as supplements_decreased,
    coalesce(previous_apology_issued, false) and not coalesce(apology_issued, false) as apology_disappeared
from compared
where
    previous_source_file is not null
    and (
        (previous_status_code in (7, 8, 9, 10) and status_code not in (7, 8, 9, 10))
        or received_moved
        or unit_code <> previous_unit_code
        or supplement_count < previous_supplement_count
        or (coalesce(previous_apology_issued, false) and not coalesce(apology_issued, false))
    )
