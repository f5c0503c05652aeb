-- Suspicious changes between versions of a dossier (sources.md §5): loaded as the newest version
-- says, reported here as a warning with the files involved; details in int_dossier_versions_compared.
{{ config(severity='warn') }}

select
    dossier_code,
    source_file,
    source_line,
    reopened,
    received_changed,
    unit_changed,
    supplements_decreased,
    apology_disappeared
from {{ ref('int_dossier_versions_compared') }}
