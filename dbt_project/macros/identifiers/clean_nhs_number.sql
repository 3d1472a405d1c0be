{#- NHS number as 10 digits: spaces, hyphens and dots removed (written 3-3-4 as often as not);
    anything that is not then exactly 10 digits is NULL. -#}
{% macro clean_nhs_number(column) -%}
    {{ return(adapter.dispatch('clean_nhs_number', 'dl_platform')(column)) }}
{%- endmacro %}

{% macro default__clean_nhs_number(column) -%}
    case when regexp_like(regexp_replace(cast({{ column }} as varchar), '[[:space:].-]', ''), '^[0-9]{10}$')
         then regexp_replace(cast({{ column }} as varchar), '[[:space:].-]', '') end
{%- endmacro %}

{% macro duckdb__clean_nhs_number(column) -%}
    case when regexp_full_match(regexp_replace(cast({{ column }} as varchar), '[\s.\-]', '', 'g'), '[0-9]{10}')
         then regexp_replace(cast({{ column }} as varchar), '[\s.\-]', '', 'g') end
{%- endmacro %}
