{#- Year and month of a delivered date as an integer YYYYMM, read by the same shapes as
    parse_date (ISO, DD/MM/YYYY, YYYYMMDD) even when the whole date is not a real one: a date
    of birth of `19450493` or `31/04/1980` still says the person was born in April 1945 or 1980,
    which linkage weighs (a keying error rarely hits year and month at once). NULL when the
    shape is unknown, the year is outside min_year..this year, or the month is not 1-12. -#}
{% macro extract_year_month(column, min_year=1880) -%}
    {{ return(adapter.dispatch('extract_year_month', 'dl_platform')(column, min_year)) }}
{%- endmacro %}

{% macro duckdb__extract_year_month(column, min_year) -%}
    {%- set text = 'trim(' ~ column ~ ')' -%}
    {%- set year -%}
        try_cast(case
            when regexp_full_match({{ text }}, '[0-9]{4}-[0-9]{2}-[0-9]{2}([ T].*)?|[0-9]{8}') then substr({{ text }}, 1, 4)
            when regexp_full_match({{ text }}, '[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}') then split_part({{ text }}, '/', 3)
        end as integer)
    {%- endset -%}
    {%- set month -%}
        try_cast(case
            when regexp_full_match({{ text }}, '[0-9]{4}-[0-9]{2}-[0-9]{2}([ T].*)?') then substr({{ text }}, 6, 2)
            when regexp_full_match({{ text }}, '[0-9]{8}') then substr({{ text }}, 5, 2)
            when regexp_full_match({{ text }}, '[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}') then split_part({{ text }}, '/', 2)
        end as integer)
    {%- endset -%}
    case when {{ year }} between {{ min_year }} and year(current_date) and {{ month }} between 1 and 12
         then {{ year }} * 100 + {{ month }} end
{%- endmacro %}
