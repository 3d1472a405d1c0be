{#- ZZ99 postcodes (no fixed abode, not known, abroad) are codes, not places: never link on them. -#}
{% macro is_pseudo_postcode(column) -%}
    coalesce(starts_with({{ column }}, 'ZZ99'), false)
{%- endmacro %}
