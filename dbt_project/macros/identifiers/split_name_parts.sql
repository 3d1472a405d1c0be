{#- Parts of a standardised name (split_name_parts('SMITH JONES') -> ['SMITH', 'JONES']), so a
    double-barrelled family name can agree with either half. -#}
{% macro split_name_parts(column) -%}
    case when {{ column }} is not null then string_split({{ column }}, ' ') end
{%- endmacro %}
