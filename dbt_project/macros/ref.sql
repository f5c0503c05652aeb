{#- A mart this run does not build (`reformwh build --select …`) is read where it is published: `marts`, not
    `marts_build`, which holds only what the current build made. -#}
{% macro ref() -%}
    {#- sqlfluff's templater has no dbt builtins: the model's name is enough to lint -#}
    {%- if builtins is not defined -%}{{ return(varargs[-1]) }}{%- endif -%}
    {%- set relation = builtins.ref(*varargs, **kwargs) -%}
    {%- if execute and relation is not none and relation.schema == 'marts_build'
        and ('model.' ~ project_name ~ '.' ~ relation.identifier) not in selected_resources -%}
        {%- set relation = relation.incorporate(path={'schema': 'marts'}) -%}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
