{#- HES FYEAR ('2223') as 'YYYY/YY' ('2022/23'), the form derive_financial_year returns.
    Years 50-99 are read as 19xx (HES starts in 1989/90). Other shapes -> NULL. -#}
{% macro format_fyear(column) -%}
    case when regexp_full_match(trim({{ column }}), '[0-9]{4}') then
        case when cast(substr(trim({{ column }}), 1, 2) as integer) >= 50 then '19' else '20' end
        || substr(trim({{ column }}), 1, 2) || '/' || substr(trim({{ column }}), 3, 2)
    end
{%- endmacro %}
