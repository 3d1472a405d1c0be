{#- A date delivered as text, its format decided by shape: ISO (YYYY-MM-DD, a time part
    ignored), DD/MM/YYYY (day first, as UK sources write it; D/M accepted) or YYYYMMDD.
    Impossible dates (31/02/1980), other shapes and empty values -> NULL; see describe_date_issue. -#}
{% macro parse_date(column) -%}
    {{ return(adapter.dispatch('parse_date', 'dl_platform')(column)) }}
{%- endmacro %}

{% macro duckdb__parse_date(column) -%}
    cast(case
        when regexp_full_match(trim({{ column }}), '[0-9]{4}-[0-9]{2}-[0-9]{2}([ T].*)?')
            then try_strptime(substr(trim({{ column }}), 1, 10), '%Y-%m-%d')
        when regexp_full_match(trim({{ column }}), '[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}')
            then try_strptime(trim({{ column }}), '%d/%m/%Y')
        when regexp_full_match(trim({{ column }}), '[0-9]{8}')
            then try_strptime(trim({{ column }}), '%Y%m%d')
    end as date)
{%- endmacro %}
