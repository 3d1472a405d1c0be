{#- Persons with GP registrations on record but none current (every spell has ended).
    Returns a query of (person_id, deregistered). -#}
{% macro flag_deregistered(registrations) -%}
    select person_id, true as deregistered
    from {{ registrations }}
    group by 1
    having not bool_or(is_current)
{%- endmacro %}
