{#- A name made comparable: upper case, diacritics removed (Zoë -> ZOE), apostrophes dropped
    (O'Brien -> OBRIEN), every other non-letter (hyphen, dot, digit) a space, whitespace collapsed.
    Empty -> NULL. Hyphens become spaces so double-barrelled names split into parts. -#}
{% macro standardise_name(column) -%}
    {{ return(adapter.dispatch('standardise_name', 'dl_platform')(column)) }}
{%- endmacro %}

{% macro duckdb__standardise_name(column) -%}
    nullif(trim(regexp_replace(regexp_replace(regexp_replace(
        upper(strip_accents(cast({{ column }} as varchar))),
        '[''’`]', '', 'g'), '[^A-Z]', ' ', 'g'), ' +', ' ', 'g')), '')
{%- endmacro %}

{% macro default__standardise_name(column) -%}
    nullif(trim(regexp_replace(regexp_replace(regexp_replace(
        upper(cast({{ column }} as varchar)),
        '[''’`]', ''), '[^A-Z]', ' '), ' +', ' ')), '')
{%- endmacro %}
