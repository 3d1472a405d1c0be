{#- Rows of a marts column whose value looks like a direct identifier: a 10-digit NHS number
    (with or without 3-3-4 spacing) or a UK postcode. Marts are the analyst zone. -#}
{% test no_identifier_values(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where regexp_full_match(cast({{ column_name }} as varchar), '[0-9]{3} ?[0-9]{3} ?[0-9]{4}')
       or regexp_full_match(upper(cast({{ column_name }} as varchar)), '[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2}')
{% endtest %}
