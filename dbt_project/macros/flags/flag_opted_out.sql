{#- Persons currently opted out of `opt_out_list` ('national_opt_out' or 'type1_opt_out'): the
    latest event for their NHS number is an opt-out. Returns a query of (person_id, <opt_out_list>). -#}
{% macro flag_opted_out(optouts, opt_out_list) -%}
    select distinct person_id, true as {{ opt_out_list }}
    from {{ optouts }}
    where opt_out_list = '{{ opt_out_list }}'
{%- endmacro %}
