{#-
    The document and task KPIs of domain.md §4, written once for every mart family.
    document_count_names(): additive counts; document_rate_columns(): rates recomputed from counts.
-#}
{% macro document_count_names() -%}
    {{ return([
        'docs_outgoing', 'docs_outgoing_electronic', 'docs_digitally_signed', 'docs_leader_signed',
        'docs_leader_digitally_signed', 'docs_incoming', 'docs_incoming_electronic',
        'tasks_due', 'tasks_done_on_time', 'tasks_done_late', 'tasks_overdue_at_period_end'
    ]) }}
{%- endmacro %}

{% macro document_rate_names() -%}
    {{ return(['e_document_rate', 'digital_signature_rate', 'leader_signature_rate', 'task_on_time_rate']) }}
{%- endmacro %}

{% macro document_rate_columns(alias=none) -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    {{ safe_rate(p ~ 'docs_outgoing_electronic', p ~ 'docs_outgoing') }} as e_document_rate,
    {{ safe_rate(p ~ 'docs_digitally_signed', p ~ 'docs_outgoing_electronic') }} as digital_signature_rate,
    {{ safe_rate(p ~ 'docs_leader_digitally_signed', p ~ 'docs_leader_signed') }} as leader_signature_rate,
    {{ safe_rate(p ~ 'tasks_done_on_time', p ~ 'tasks_due') }} as task_on_time_rate
{%- endmacro %}

{% macro document_count_sums(alias=none) -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    {%- for c in document_count_names() %}
    coalesce(sum({{ p }}{{ c }}), 0)::bigint as {{ c }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro document_kpi_select(alias=none, only_if=none) -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    {%- for c in document_count_names() %}
    cast({{ known_only(p ~ c, only_if) }} as bigint) as {{ c }},
    {%- endfor %}
    {%- for r in document_rate_names() %}
    cast({{ known_only(p ~ r, only_if) }} as {{ rate_type() }}) as {{ r }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The self-report columns of domain.md §5 on a period mart; NULL where they do not apply. -#}
{% macro self_report_select(alias=none, annual=false) -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    cast({{ p ~ 'report_status' if alias else 'null' }} as text) as report_status,
    cast({{ p ~ 'evidence_gap_count' if alias else 'null' }} as bigint) as evidence_gap_count,
    cast({{ p ~ 'missing_evidence' if alias else 'null' }} as boolean) as missing_evidence
    {%- if annual %},
    {%- for c in ['par_self_score', 'par_max_score', 'par_points_at_risk', 'par_points_with_evidence'] %}
    cast({{ p ~ c if alias else 'null' }} as {{ points_type() }}) as {{ c }},
    {%- endfor %}
    cast({{ p ~ 'evidence_coverage_rate' if alias else 'null' }} as {{ rate_type() }}) as evidence_coverage_rate,
    cast({{ p ~ 'rank_in_level' if alias else 'null' }} as bigint) as rank_in_level
    {%- endif %}
{%- endmacro %}
