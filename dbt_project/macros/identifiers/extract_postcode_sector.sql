{#- Postcode sector: outward code, space, first inward character ('EC1A 1BB' -> 'EC1A 1').
    A useful blocking key: a few thousand addresses, robust to a mistyped unit. -#}
{% macro extract_postcode_sector(column) -%}
    case when {{ column }} like '% _%' then split_part({{ column }}, ' ', 1) || ' ' || substr(split_part({{ column }}, ' ', 2), 1, 1) end
{%- endmacro %}
