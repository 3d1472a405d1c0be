{#- NHS financial year (1 April - 31 March) of a date, as 'YYYY/YY' (2023-03-31 -> '2022/23',
    2023-04-01 -> '2023/24'). Calendar year is plain year(date); the two differ Jan-Mar. -#}
{% macro derive_financial_year(date_column) -%}
    case when {{ date_column }} is not null then
        cast(year({{ date_column }}) - case when month({{ date_column }}) < 4 then 1 else 0 end as varchar)
        || '/' || lpad(cast((year({{ date_column }}) - case when month({{ date_column }}) < 4 then 1 else 0 end + 1) % 100 as varchar), 2, '0')
    end
{%- endmacro %}
