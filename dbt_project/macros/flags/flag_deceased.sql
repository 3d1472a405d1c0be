{#- Persons recorded as dead: a PDS date of death, or a GP deregistration for death (dim_person
    combines both). Returns a query of (person_id, deceased). -#}
{% macro flag_deceased(persons) -%}
    select person_id, true as deceased
    from {{ persons }}
    where is_deceased
{%- endmacro %}
