{#- One sex code set from NHS Data Dictionary person stated gender codes (1 male, 2 female,
    0 not known, 9 not specified), M/F/U and Male/Female/Unknown text: 'M', 'F' or NULL. -#}
{% macro standardise_sex(column) -%}
    case upper(trim(cast({{ column }} as varchar)))
        when '1' then 'M' when 'M' then 'M' when 'MALE' then 'M'
        when '2' then 'F' when 'F' then 'F' when 'FEMALE' then 'F'
    end
{%- endmacro %}
