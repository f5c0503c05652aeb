-- Every evidence gap of domain.md §5, one row each, worded for the office: from the evidence matches of the
-- latest accepted submission of each unit and period (int_evidence_items_matched), its scores and figures, and
-- the report statuses for REPORT_MISSING / REPORT_LATE.
with statuses as (
    select * from {{ ref('int_unit_reports_statused') }}
),

latest as (
    select * from {{ ref('int_submissions_catalogued') }}
),

items as (
    select * from {{ ref('int_evidence_items_matched') }}
),

scores as (
    select
        latest.*,
        scores.criterion_code,
        scores.self_score,
        scores.explanation,
        leaves.evidence_required
    from latest
    inner join {{ ref('stg_self_reports__scores') }} as scores on latest.submission_id = scores.submission_id
    inner join {{ ref('int_criteria_leaves_listed') }} as leaves
        on
            latest.year = leaves.year
            and latest.unit_level = leaves.unit_level
            and scores.criterion_code = leaves.criterion_code
),

figures as (
    select
        latest.*,
        figures.indicator_code,
        figures.figure_value,
        indicators.evidence_required
    from latest
    inner join {{ ref('stg_self_reports__figures') }} as figures on latest.submission_id = figures.submission_id
    inner join {{ ref('stg_reference__indicators') }} as indicators
        on
            latest.year = indicators.year
            and latest.unit_level = indicators.unit_level
            and figures.indicator_code = indicators.indicator_code
),

item_gaps as (
    select
        items.*,
        gap.gap_type,
        gap.evidence_ref,
        gap.detail
    from items
    cross join
        lateral (
            values
            (
                case when items.matching_files = 0 then 'FILE_MISSING' end,
                items.file_name,
                'tệp "' || items.file_name || '" không có trong hồ sơ nộp'
            ),
            (
                case when items.matching_files > 0 and not items.has_content then 'FILE_EMPTY' end,
                items.file_name,
                'tệp "' || items.file_name || '" rỗng (0 byte)'
            ),
            (
                case
                    when items.matching_documents = 0 and items.has_register then 'DOCUMENT_NOT_FOUND'
                end,
                items.document_number,
                'văn bản '
                || items.document_number
                || coalesce(' ngày ' || to_char(items.document_date, 'DD/MM/YYYY'), '')
                || ' không có trong sổ văn bản của đơn vị'
            ),
            (
                case
                    when items.matching_documents = 0 and not items.has_register
                        then 'DOCUMENT_UNVERIFIABLE'
                end,
                items.document_number,
                'không có sổ văn bản của đơn vị năm '
                || coalesce(extract(year from items.document_date)::integer, items.year) || ' để đối chiếu'
            ),
            (
                case
                    when coalesce(items.registered_date, items.document_date) > items.sent_at::date
                        then 'DOCUMENT_AFTER_SUBMISSION'
                end,
                items.document_number,
                'văn bản ' || items.document_number || ' ngày '
                || to_char(coalesce(items.registered_date, items.document_date), 'DD/MM/YYYY')
                || ' sau ngày gửi báo cáo ' || to_char(items.sent_at, 'DD/MM/YYYY')
            )
        ) as gap (gap_type, evidence_ref, detail)
    where gap.gap_type is not null
),

gaps as (
    select
        period_key,
        unit_code,
        case when not is_indicator then code end as criterion_code,
        case when is_indicator then code end as indicator_code,
        gap_type,
        evidence_ref,
        detail,
        null::text as explanation,
        loaded_at as detected_at,
        source_line as item_line
    from item_gaps

    union all

    select
        period_key,
        unit_code,
        criterion_code,
        null as indicator_code,
        'NO_EVIDENCE' as gap_type,
        null as evidence_ref,
        'tự chấm ' || self_score || ' điểm nhưng không có tài liệu kiểm chứng' as detail,
        explanation,
        loaded_at as detected_at,
        null as item_line
    from scores
    where
        self_score > 0
        and evidence_required
        and not exists (
            select 1 from items
            where items.submission_id = scores.submission_id and items.code = scores.criterion_code
        )

    union all

    select
        period_key,
        unit_code,
        null as criterion_code,
        indicator_code,
        'NO_EVIDENCE' as gap_type,
        null as evidence_ref,
        'báo cáo số liệu ' || figure_value || ' nhưng không có tài liệu kiểm chứng' as detail,
        null as explanation,
        loaded_at as detected_at,
        null as item_line
    from figures
    where
        figure_value > 0
        and evidence_required
        and not exists (
            select 1 from items
            where items.submission_id = figures.submission_id and items.code = figures.indicator_code
        )

    union all

    select
        latest.period_key,
        latest.unit_code,
        invalid.criterion_code,
        null as indicator_code,
        'INVALID_SCORE' as gap_type,
        invalid.self_score_text as evidence_ref,
        invalid.reason as detail,
        null as explanation,
        invalid.quarantined_at::timestamp as detected_at,
        null as item_line
    from latest
    inner join {{ ref('stg_self_reports__quarantined_scores') }} as invalid
        on latest.submission_id = invalid.submission_id

    union all

    select
        statuses.period_key,
        statuses.unit_code,
        null as criterion_code,
        null as indicator_code,
        case statuses.report_status when 'missing' then 'REPORT_MISSING' else 'REPORT_LATE' end as gap_type,
        null as evidence_ref,
        case statuses.report_status
            when 'late'
                then
                    'gửi ngày ' || to_char(statuses.first_sent_at, 'DD/MM/YYYY') || ', hạn '
                    || to_char(statuses.submission_deadline, 'DD/MM/YYYY')
            else
                'chưa nhận được báo cáo, hạn ' || to_char(statuses.submission_deadline, 'DD/MM/YYYY')
                || coalesce('; hồ sơ bị từ chối: ' || rejected.names, '')
        end as detail,
        null as explanation,
        case statuses.report_status
            when 'late' then statuses.first_sent_at
            else (statuses.submission_deadline + 1)::timestamp
        end as detected_at,
        null as item_line
    from statuses
    left join lateral (
        select string_agg(r.file_name || ' (' || r.message || ')', '; ' order by r.rejected_at) as names  -- noqa: RF04
        from {{ ref('stg_self_reports__rejected_submissions') }} as r
        where r.unit_code = statuses.unit_code and r.period_key = statuses.period_key
    ) as rejected on true
    where statuses.report_status in ('missing', 'late')
)

-- the criterion's or indicator's name from the catalog the submission was judged against, for the office's lists
select
    md5(concat_ws(
        '|', gaps.period_key, gaps.unit_code, gaps.criterion_code, gaps.indicator_code, gaps.gap_type,
        gaps.item_line, gaps.detail
    )) as gap_id,
    gaps.period_key,
    gaps.unit_code,
    gaps.criterion_code,
    criteria.criterion_name,
    gaps.indicator_code,
    indicators.indicator_name,
    gaps.gap_type,
    gaps.evidence_ref,
    gaps.detail,
    gaps.explanation,
    gaps.detected_at
from gaps
left join latest
    on
        gaps.unit_code = latest.unit_code
        and gaps.period_key = latest.period_key
left join {{ ref('int_criteria_leaves_listed') }} as criteria
    on
        latest.year = criteria.year
        and latest.unit_level = criteria.unit_level
        and gaps.criterion_code = criteria.criterion_code
left join {{ ref('stg_reference__indicators') }} as indicators
    on
        latest.year = indicators.year
        and latest.unit_level = indicators.unit_level
        and gaps.indicator_code = indicators.indicator_code
