-- Every evidence gap of domain.md §5, one row each, from the latest accepted submission of each unit and
-- period (and the report statuses for REPORT_MISSING / REPORT_LATE).
with statuses as (
    select * from {{ ref('int_unit_reports_statused') }}
),

latest as (
    select
        s.submission_id,
        s.unit_code,
        s.period_key,
        s.sent_at,
        s.loaded_at,
        left(s.period_key, 4)::integer as year,  -- noqa: RF04
        coalesce(statuses.unit_level, units.unit_level) as unit_level
    from {{ ref('int_submissions_ranked') }} as s
    left join statuses
        on
            s.unit_code = statuses.unit_code
            and s.period_key = statuses.period_key
    left join {{ ref('int_units_current') }} as units on s.unit_code = units.unit_code
    where s.is_latest
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

items as (
    select
        latest.*,
        items.code,
        items.document_number,
        items.document_date,
        items.file_name,
        items.source_line,
        -- a code of the indicator catalog is an indicator, otherwise a criterion
        indicators.indicator_code is not null as is_indicator
    from latest
    inner join {{ ref('stg_self_reports__evidence_items') }} as items on latest.submission_id = items.submission_id
    left join {{ ref('stg_reference__indicators') }} as indicators
        on
            latest.year = indicators.year
            and latest.unit_level = indicators.unit_level
            and items.code = indicators.indicator_code
),

files as (
    select
        submission_id,
        file_bytes,
        {{ normalize_file_name('file_name') }} as name_folded,
        {{ normalize_file_name('file_path') }} as path_folded
    from {{ ref('stg_self_reports__evidence_files') }}
),

item_files as (
    select
        items.submission_id,
        items.source_line,
        count(files.file_bytes) as matching_files,
        coalesce(bool_or(files.file_bytes > 0), false) as has_content
    from items
    left join files
        on
            items.submission_id = files.submission_id
            and (
                {{ normalize_file_name('items.file_name') }} in (files.name_folded, files.path_folded)
                or (
                    not {{ has_extension('items.file_name') }}
                    and {{ normalize_file_name('items.file_name') }} in (
                        {{ file_name_stem('files.name_folded') }}, {{ file_name_stem('files.path_folded') }}
                    )
                )
            )
    where items.file_name is not null
    group by items.submission_id, items.source_line
),

-- The registers of a unit include those of its predecessors (units whose succession leads to it).
unit_registers as (
    select
        chains.chain_unit_code as unit_code,
        documents.document_number_normalized,
        documents.document_date,
        documents.document_year
    from {{ ref('int_unit_chains_walked') }} as chains
    inner join {{ ref('int_documents_deduplicated') }} as documents on chains.unit_code = documents.unit_code
),

item_documents as (
    select
        items.submission_id,
        items.source_line,
        min(registers.document_date) as registered_date,
        count(registers.document_date) as matching_documents,
        exists(
            select 1
            from unit_registers as any_document
            where
                any_document.unit_code = items.unit_code
                and any_document.document_year = coalesce(extract(year from items.document_date)::integer, items.year)
        ) as has_register
    from items
    left join unit_registers as registers
        on
            items.unit_code = registers.unit_code
            and {{ normalize_document_number('items.document_number') }} = registers.document_number_normalized
            and (items.document_date is null or extract(year from items.document_date) = registers.document_year)
    where items.document_number is not null
    group by items.submission_id, items.source_line, items.unit_code, items.document_date, items.year
),

item_gaps as (
    select
        items.*,
        gap.gap_type,
        gap.evidence_ref,
        gap.detail
    from items
    left join item_files
        on
            items.submission_id = item_files.submission_id
            and items.source_line = item_files.source_line
    left join item_documents
        on
            items.submission_id = item_documents.submission_id
            and items.source_line = item_documents.source_line
    cross join
        lateral (
            values
            (
                case when item_files.matching_files = 0 then 'FILE_MISSING' end,
                items.file_name,
                'tệp "' || items.file_name || '" không có trong hồ sơ nộp'
            ),
            (
                case when item_files.matching_files > 0 and not item_files.has_content then 'FILE_EMPTY' end,
                items.file_name,
                'tệp "' || items.file_name || '" rỗng (0 byte)'
            ),
            (
                case
                    when item_documents.matching_documents = 0 and item_documents.has_register then 'DOCUMENT_NOT_FOUND'
                end,
                items.document_number,
                'văn bản '
                || items.document_number
                || coalesce(' ngày ' || to_char(items.document_date, 'DD/MM/YYYY'), '')
                || ' không có trong sổ văn bản của đơn vị'
            ),
            (
                case
                    when item_documents.matching_documents = 0 and not item_documents.has_register
                        then 'DOCUMENT_UNVERIFIABLE'
                end,
                items.document_number,
                'không có sổ văn bản của đơn vị năm '
                || coalesce(extract(year from items.document_date)::integer, items.year) || ' để đối chiếu'
            ),
            (
                case
                    when coalesce(item_documents.registered_date, items.document_date) > items.sent_at::date
                        then 'DOCUMENT_AFTER_SUBMISSION'
                end,
                items.document_number,
                'văn bản ' || items.document_number || ' ngày '
                || to_char(coalesce(item_documents.registered_date, items.document_date), 'DD/MM/YYYY')
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
