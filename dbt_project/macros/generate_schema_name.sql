{#- Layers live in fixed schemas (staging, intermediate, marts): the mart contract names schema `marts`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
