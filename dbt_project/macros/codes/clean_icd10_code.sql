{#- ICD-10 code as HES writes it (up to 4 characters, no dot: 'E119'); dots, dashes and spaces
    removed, so 'E11.9' and 'E119' agree. Empty -> NULL. Code lists match on prefixes. -#}
{% macro clean_icd10_code(column) -%}
    nullif(left(regexp_replace(upper(trim({{ column }})), '[^A-Z0-9]', '', 'g'), 4), '')
{%- endmacro %}
