{#- What the marts store, so that psql and BI tools show what a report prints: a rate is a fraction rounded to
    4 places (0.5002 = 50,02%, the two decimals of a printed percentage) and self-assessed points are rounded to
    2. The model YAML declares the same types (its contracts create the tables). -#}
{% macro rate_type() -%}
    numeric(10, 4)
{%- endmacro %}

{% macro points_type() -%}
    numeric(10, 2)
{%- endmacro %}

{#- A period is complete when the data reaches past its last second; NULL when nothing is loaded. -#}
{% macro period_is_complete(as_of, period_end) -%}
    {{ as_of }} >= {{ period_end }} + interval '23:59:59'
{%- endmacro %}
