{#- Outward code of a normalised postcode: the part before the space ('EC1A 1BB' -> 'EC1A'). -#}
{% macro extract_postcode_outward(column) -%}
    nullif(split_part({{ column }}, ' ', 1), '')
{%- endmacro %}
