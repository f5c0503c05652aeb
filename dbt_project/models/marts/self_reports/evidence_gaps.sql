-- One row per evidence gap (domain.md §5): the office's list of what units claimed without evidence.
select
    cast(gap_id as text) as gap_id,
    cast(period_key as text) as period_key,
    cast(unit_code as text) as unit_code,
    cast(criterion_code as text) as criterion_code,
    cast(criterion_name as text) as criterion_name,
    cast(indicator_code as text) as indicator_code,
    cast(indicator_name as text) as indicator_name,
    cast(gap_type as text) as gap_type,
    cast(evidence_ref as text) as evidence_ref,
    cast(detail as text) as detail,
    cast(explanation as text) as explanation,
    cast(gap_type not in ('REPORT_LATE', 'DOCUMENT_UNVERIFIABLE') as boolean) as flags_unit,
    cast(detected_at as timestamp) as detected_at
from {{ ref('int_evidence_gaps_detected') }}
