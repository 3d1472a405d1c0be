{#- NHS ethnic category code (A-H, J-N, P, R, S, Z; 'Z' = not stated), upper-cased and trimmed;
    anything else (e.g. '99', '') -> NULL. Map to ONS groups with the ref_ethnic_category seed. -#}
{% macro clean_ethnic_category(column) -%}
    case when regexp_full_match(upper(trim(cast({{ column }} as varchar))), '[A-HJ-NPRSZ]')
         then upper(trim(cast({{ column }} as varchar))) end
{%- endmacro %}
