{#- An address made comparable: upper case, diacritics and punctuation removed, single spaces. -#}
{% macro standardise_address(column) -%}
    nullif(trim(regexp_replace(regexp_replace(upper(strip_accents(cast({{ column }} as varchar))), '[^A-Z0-9 ]', ' ', 'g'), ' +', ' ', 'g')), '')
{%- endmacro %}
