{#- Layers live in fixed schemas (staging, intermediate, marts): the mart contract names schema `marts`. dbt builds
    the marts into `marts_build`; `reformwh build` moves them into `marts` in one transaction once every model
    and test has passed (reformwh/pipeline.py publish_marts), so readers never see half a build. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name == 'marts' -%}
        marts_build
    {%- else -%}
        {{ custom_schema_name if custom_schema_name else target.schema }}
    {%- endif -%}
{%- endmacro %}
