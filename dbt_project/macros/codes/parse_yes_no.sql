{#- Y/N (also Yes/No, True/False, 1/0) flags as BOOLEAN; anything else NULL. -#}
{% macro parse_yes_no(column) -%}
    case upper(trim(cast({{ column }} as varchar)))
        when 'Y' then true when 'YES' then true when 'TRUE' then true when '1' then true
        when 'N' then false when 'NO' then false when 'FALSE' then false when '0' then false
    end
{%- endmacro %}
