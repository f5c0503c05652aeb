{#- A rate as a numeric fraction; NULL (never 0 or 1) when the denominator is 0 or NULL. -#}
{% macro safe_rate(numerator, denominator) -%}
    ({{ numerator }})::numeric / nullif({{ denominator }}, 0)
{%- endmacro %}
