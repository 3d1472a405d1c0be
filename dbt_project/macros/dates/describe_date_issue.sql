{#- Why a delivered date did not become a usable date, or NULL when it did:
    'missing', 'unrecognised_format', 'impossible_date' (e.g. 31/02/1980), and, when bounds are
    given, 'before_<min>' or 'after_<max>' (e.g. a date of birth in the future).
    Args: column (text as delivered); min_date, max_date: SQL date expressions or none;
    parsed: a column already holding parse_date(column), when the caller computed it (saves
    parsing each value three times over millions of rows). -#}
{% macro describe_date_issue(column, min_date=none, max_date=none, parsed=none) -%}
    {%- set parsed = parsed if parsed is not none else parse_date(column) -%}
    case
        when nullif(trim({{ column }}), '') is null then 'missing'
        when not regexp_full_match(trim({{ column }}), '[0-9]{4}-[0-9]{2}-[0-9]{2}([ T].*)?|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}|[0-9]{8}')
            then 'unrecognised_format'
        when {{ parsed }} is null then 'impossible_date'
        {%- if min_date is not none %}
        when {{ parsed }} < {{ min_date }} then 'before_minimum'
        {%- endif %}
        {%- if max_date is not none %}
        when {{ parsed }} > {{ max_date }} then 'after_maximum'
        {%- endif %}
    end
{%- endmacro %}
