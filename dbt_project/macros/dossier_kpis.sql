{#-
    The dossier KPIs of domain.md §3, written once for every mart family.
    dossier_count_names(): the additive count columns (sums of these are again valid counts).
    dossier_count_aggregates(): the counts from per (period, dossier) flags (int_dossier_periods_assigned).
    dossier_rate_columns(): the rates, recomputed from counts (as-was, restated, province, by field).
-#}
{% macro dossier_count_names() -%}
    {{ return([
        'received_in_period', 'received_online', 'received_direct', 'received_postal',
        'received_online_full', 'received_digitized', 'received_with_fee', 'received_paid_online',
        'carried_over', 'resolved_total', 'resolved_ahead', 'resolved_on_time', 'resolved_late',
        'resolved_withdrawn_stopped', 'in_progress_total', 'in_progress_overdue', 'in_progress_on_time',
        'late_total', 'late_with_apology', 'rated_total', 'rated_satisfied',
        'processing_working_days_total', 'received_total', 'received_direct_or_postal', 'late_without_apology'
    ]) }}
{%- endmacro %}

{% macro dossier_rate_names() -%}
    {{ return([
        'on_time_rate', 'processing_on_time_rate', 'online_rate', 'online_full_rate',
        'digitization_rate', 'online_payment_rate', 'apology_rate', 'satisfaction_rate',
        'avg_processing_working_days'
    ]) }}
{%- endmacro %}

{#- Yes/no values that are NULL are unknown and never count as yes: every condition is `is true`. -#}
{% macro dossier_count_aggregates(alias='f') -%}
    count(*) filter (where {{ alias }}.is_received_in_period) as received_in_period,
    count(*) filter (where {{ alias }}.is_received_in_period and {{ alias }}.channel = 2) as received_online,
    count(*) filter (where {{ alias }}.is_received_in_period and {{ alias }}.channel = 1) as received_direct,
    count(*) filter (where {{ alias }}.is_received_in_period and {{ alias }}.channel = 3) as received_postal,
    count(*) filter (
        where {{ alias }}.is_received_in_period and {{ alias }}.channel = 2 and {{ alias }}.service_level = 'full'
    ) as received_online_full,
    count(*) filter (where {{ alias }}.is_received_in_period and {{ alias }}.digitized is true) as received_digitized,
    count(*) filter (where {{ alias }}.is_received_in_period and {{ alias }}.fee_amount > 0) as received_with_fee,
    count(*) filter (
        where {{ alias }}.is_received_in_period and {{ alias }}.fee_amount > 0 and {{ alias }}.online_payment in (1, 2)
    ) as received_paid_online,
    count(*) filter (where {{ alias }}.is_carried_over) as carried_over,
    count(*) filter (where {{ alias }}.is_resolved) as resolved_total,
    count(*) filter (where {{ alias }}.is_resolved and {{ alias }}.outcome = 'ahead') as resolved_ahead,
    count(*) filter (where {{ alias }}.is_resolved and {{ alias }}.outcome = 'on_time') as resolved_on_time,
    count(*) filter (where {{ alias }}.is_resolved and {{ alias }}.outcome = 'late') as resolved_late,
    count(*) filter (where {{ alias }}.is_resolved and {{ alias }}.status_code in (7, 8)) as resolved_withdrawn_stopped,
    count(*) filter (where {{ alias }}.is_in_progress) as in_progress_total,
    count(*) filter (where {{ alias }}.is_in_progress_overdue) as in_progress_overdue,
    count(*) filter (where {{ alias }}.is_in_progress and not {{ alias }}.is_in_progress_overdue) as in_progress_on_time,
    count(*) filter (
        where ({{ alias }}.is_resolved and {{ alias }}.outcome = 'late') or {{ alias }}.is_in_progress_overdue
    ) as late_total,
    count(*) filter (
        where (({{ alias }}.is_resolved and {{ alias }}.outcome = 'late') or {{ alias }}.is_in_progress_overdue)
        and {{ alias }}.apology_issued is true
    ) as late_with_apology,
    count(*) filter (where {{ alias }}.is_resolved and {{ alias }}.rating is not null) as rated_total,
    count(*) filter (
        where {{ alias }}.is_resolved and {{ alias }}.rating in ('satisfied', 'very_satisfied')
    ) as rated_satisfied,
    coalesce(
        sum({{ alias }}.processing_working_days) filter (where {{ alias }}.is_resolved), 0
    )::bigint as processing_working_days_total,
    {#- the totals of form II.06a and the report: received in the period or carried over; direct or postal;
        late without an apology letter -#}
    count(*) filter (where {{ alias }}.is_received_in_period or {{ alias }}.is_carried_over) as received_total,
    count(*) filter (
        where {{ alias }}.is_received_in_period and {{ alias }}.channel in (1, 3)
    ) as received_direct_or_postal,
    count(*) filter (
        where (({{ alias }}.is_resolved and {{ alias }}.outcome = 'late') or {{ alias }}.is_in_progress_overdue)
        and {{ alias }}.apology_issued is not true
    ) as late_without_apology
{%- endmacro %}

{#- Rates from count columns, optionally qualified by a relation alias. -#}
{% macro dossier_rate_columns(alias=none) -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    {{ safe_rate(p ~ 'resolved_ahead + ' ~ p ~ 'resolved_on_time', p ~ 'resolved_total') }} as on_time_rate,
    {{ safe_rate(
        p ~ 'resolved_ahead + ' ~ p ~ 'resolved_on_time + ' ~ p ~ 'in_progress_on_time',
        p ~ 'resolved_total + ' ~ p ~ 'in_progress_total'
    ) }} as processing_on_time_rate,
    {{ safe_rate(p ~ 'received_online', p ~ 'received_in_period') }} as online_rate,
    {{ safe_rate(p ~ 'received_online_full', p ~ 'received_in_period') }} as online_full_rate,
    {{ safe_rate(p ~ 'received_digitized', p ~ 'received_in_period') }} as digitization_rate,
    {{ safe_rate(p ~ 'received_paid_online', p ~ 'received_with_fee') }} as online_payment_rate,
    {{ safe_rate(p ~ 'late_with_apology', p ~ 'late_total') }} as apology_rate,
    {{ safe_rate(p ~ 'rated_satisfied', p ~ 'rated_total') }} as satisfaction_rate,
    {{ safe_rate(p ~ 'processing_working_days_total', p ~ 'resolved_total') }} as avg_processing_working_days
{%- endmacro %}

{#- Counts summed over rows (restated, province); sum() of only NULLs stays NULL (no procedures). -#}
{% macro dossier_count_sums(alias=none) -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    {%- for c in dossier_count_names() %}
    sum({{ p }}{{ c }})::bigint as {{ c }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The count columns of a relation; with a condition, NULL where it is false (units without procedures). -#}
{% macro dossier_count_list(alias, zero_fill=false, only_if=none) -%}
    {%- for c in dossier_count_names() -%}
        {%- set expr = 'coalesce(' ~ alias ~ '.' ~ c ~ ', 0)' if zero_fill else alias ~ '.' ~ c -%}
        {%- if only_if %}case when {{ only_if }} then {{ expr }} end{% else %}{{ expr }}{% endif %} as {{ c }}
        {{- ',\n        ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- The late dossiers of a row against its own work and against the period's late dossiers in the relation (the
    rows of a period partition the province's: by field, by procedure). Over an aggregate: use after group by. -#}
{% macro late_share_columns(alias=none) -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    {{ safe_rate(p ~ 'late_total', p ~ 'resolved_total + ' ~ p ~ 'in_progress_total') }} as late_rate,
    {{ safe_rate(p ~ 'late_total', 'sum(' ~ p ~ 'late_total) over (partition by ' ~ p ~ 'period_key)') }} as late_share
{%- endmacro %}
