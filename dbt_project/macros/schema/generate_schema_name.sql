{#- Custom schemas are used verbatim (staging, intermediate, marts, reference), not prefixed
    with the target schema, so analysts and the linkage stage find tables by stable names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
